import { afterEach, describe, expect, it, vi } from 'vitest';
import { requirePermission } from './authenticate';
import { sameOrigin } from './client-address';
import { ForbiddenError } from './errors';
import { hashPassword, passwordSchema, verifyPassword } from './passwords';
import { can, ROLE_PERMISSIONS } from './permissions';
import { cookieShouldBeSecure, readCookie, sessionCookieOptions } from './sessions';
import { generateToken, hashToken, looksLikeToken, tokenActor } from './tokens';
import { emailSchema } from './users';

afterEach(() => vi.unstubAllEnvs());

describe('the role table', () => {
  it('lets operators read and write, auditors read and audit, and admins do everything', () => {
    expect(ROLE_PERMISSIONS).toEqual({
      operator: ['address:read', 'address:write'],
      auditor: ['address:read', 'audit:read'],
      admin: ['address:read', 'address:write', 'audit:read', 'admin'],
    });
    expect(can('auditor', 'address:write')).toBe(false);
    expect(can('operator', 'admin')).toBe(false);
  });

  it('refuses the system actor every permission a person or token would need', () => {
    expect(() => requirePermission({ id: 's', name: 'system', role: 'system' }, 'address:read')).toThrow(
      ForbiddenError,
    );
    expect(() => requirePermission({ id: 'a', name: 'A', role: 'auditor' }, 'address:write')).toThrow(
      'your role (auditor) does not allow this',
    );
  });
});

describe('session cookies', () => {
  it('are Secure everywhere except on this machine', () => {
    expect(cookieShouldBeSecure('localhost:3000')).toBe(false);
    expect(cookieShouldBeSecure('127.0.0.1:3100')).toBe(false);
    expect(cookieShouldBeSecure('[::1]:3000')).toBe(false);
    expect(cookieShouldBeSecure('app.localhost')).toBe(false);
    expect(cookieShouldBeSecure('ledger.example.org')).toBe(true);
    expect(cookieShouldBeSecure('localhost.evil.example')).toBe(true);
    expect(cookieShouldBeSecure(null)).toBe(true);
  });

  it('can be forced Secure or not with SESSION_COOKIE_SECURE', () => {
    vi.stubEnv('SESSION_COOKIE_SECURE', 'true');
    expect(cookieShouldBeSecure('localhost')).toBe(true);
    vi.stubEnv('SESSION_COOKIE_SECURE', 'false');
    expect(cookieShouldBeSecure('ledger.example.org')).toBe(false);
  });

  it('are httpOnly and SameSite=Lax, and expire before the server-side session', () => {
    expect(sessionCookieOptions('ledger.example.org')).toMatchObject({
      httpOnly: true,
      sameSite: 'lax',
      secure: true,
      path: '/',
    });
  });

  it('are read from a Cookie header by exact name', () => {
    const header = 'other=1; address_ledger_session=abc%2Fdef; address_ledger_session_x=no';
    expect(readCookie(header, 'address_ledger_session')).toBe('abc/def');
    expect(readCookie('x_address_ledger_session=1', 'address_ledger_session')).toBeNull();
    expect(readCookie(null, 'address_ledger_session')).toBeNull();
  });
});

describe('same-origin check for cookie-authenticated writes', () => {
  it('accepts only an Origin whose host is the request host', () => {
    expect(sameOrigin('http://localhost:3000', 'localhost:3000')).toBe(true);
    expect(sameOrigin('https://Ledger.example.org', 'ledger.example.org')).toBe(true);
    expect(sameOrigin('http://localhost:3001', 'localhost:3000')).toBe(false);
    expect(sameOrigin('https://evil.example', 'ledger.example.org')).toBe(false);
    expect(sameOrigin('null', 'ledger.example.org')).toBe(false);
    expect(sameOrigin(null, 'ledger.example.org')).toBe(false);
  });
});

describe('API tokens', () => {
  it('are 256 random bits with a recognisable prefix, stored as SHA-256', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a).not.toBe(b);
    expect(looksLikeToken(a)).toBe(true);
    expect(looksLikeToken('alt_short')).toBe(false);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a)).not.toBe(hashToken(b));
  });

  it('act as an actor whose id and name say it is a token', () => {
    expect(tokenActor({ id: 'abc', name: 'importer', role: 'operator' })).toEqual({
      id: 'token:abc',
      name: 'importer (API token)',
      role: 'operator',
    });
  });
});

describe('passwords', () => {
  it('are hashed with argon2id and verified, and a broken hash reads as a wrong password', async () => {
    const hash = await hashPassword('a perfectly fine password');
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(hash, 'a perfectly fine password')).toBe(true);
    expect(await verifyPassword(hash, 'a perfectly fine passworD')).toBe(false);
    expect(await verifyPassword('not a hash', 'whatever')).toBe(false);
  });

  it('treat composed and decomposed Unicode as the same password', async () => {
    const hash = await hashPassword('café-au-lait-noir');
    expect(await verifyPassword(hash, 'cafe\u0301-au-lait-noir')).toBe(true);
  });

  it('must be 12 to 256 characters', () => {
    expect(passwordSchema.safeParse('x'.repeat(11)).success).toBe(false);
    expect(passwordSchema.safeParse('x'.repeat(12)).success).toBe(true);
    expect(passwordSchema.safeParse('x'.repeat(257)).success).toBe(false);
  });
});

describe('e-mail addresses', () => {
  it('are trimmed and lower-cased so one person cannot hold two accounts', () => {
    expect(emailSchema.parse('  Ada@Example.ORG ')).toBe('ada@example.org');
    expect(emailSchema.safeParse('not an address').success).toBe(false);
  });
});
