import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientAddress, PEER_HEADER, PEER_TOKEN_ENV, trustedProxies } from './client-address';

const TOKEN = 'test-peer-token';
const stamped = (peer: string, extra: Record<string, string> = {}) =>
  new Headers({ host: 'ledger.example.org', [PEER_HEADER]: `${TOKEN} ${peer}`, ...extra });

beforeEach(() => {
  process.env[PEER_TOKEN_ENV] = TOKEN;
  delete process.env.TRUSTED_PROXIES;
});
afterEach(() => {
  delete process.env[PEER_TOKEN_ENV];
  delete process.env.TRUSTED_PROXIES;
});

describe('clientAddress without TRUSTED_PROXIES', () => {
  it('is the socket peer, whatever X-Forwarded-For and X-Forwarded-Host claim', () => {
    for (const forwarded of ['198.51.100.1', '198.51.100.1, 203.0.113.9', 'garbage']) {
      expect(
        clientAddress(
          stamped('::ffff:203.0.113.5', { 'x-forwarded-for': forwarded, 'x-forwarded-host': 'evil.example' }),
        ),
      ).toEqual({ ip: '203.0.113.5', host: 'ledger.example.org' });
    }
  });

  it('ignores a peer stamp without the process token (a client typing the header itself)', () => {
    const forged = new Headers({ host: 'h', [PEER_HEADER]: 'guess 10.0.0.1', 'x-forwarded-for': '1.2.3.4' });
    expect(clientAddress(forged)).toEqual({ ip: 'unknown', host: 'h' });
    delete process.env[PEER_TOKEN_ENV];
    expect(clientAddress(stamped('10.0.0.1')).ip).toBe('unknown');
  });
});

describe('clientAddress behind TRUSTED_PROXIES', () => {
  it('takes the nearest untrusted hop of X-Forwarded-For and X-Forwarded-Host from a trusted peer', () => {
    process.env.TRUSTED_PROXIES = '10.0.0.0/8, 2001:db8::1';
    const h = stamped('10.1.2.3', {
      'x-forwarded-for': '192.0.2.66, 198.51.100.4, 10.9.9.9',
      'x-forwarded-host': 'ledger.example.org',
    });
    expect(clientAddress(h)).toEqual({ ip: '198.51.100.4', host: 'ledger.example.org' });
    expect(clientAddress(stamped('2001:db8::1', { 'x-forwarded-for': '203.0.113.7' })).ip).toBe('203.0.113.7');
  });

  it('still ignores forwarded headers from a peer that is not in the list', () => {
    process.env.TRUSTED_PROXIES = '10.0.0.0/8';
    expect(
      clientAddress(stamped('192.0.2.1', { 'x-forwarded-for': '10.0.0.5', 'x-forwarded-host': 'evil.example' })),
    ).toEqual({ ip: '192.0.2.1', host: 'ledger.example.org' });
  });

  it('refuses a setting that is not a list of addresses and ranges', () => {
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '::1/129', '10.0.0.1/x']) {
      expect(() => trustedProxies(bad)).toThrow(/TRUSTED_PROXIES/);
    }
    expect(trustedProxies('127.0.0.1 ::1 10.0.0.0/8').size).toBe(3);
  });
});
