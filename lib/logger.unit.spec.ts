import { afterEach, describe, expect, it } from 'vitest';
import { captureLogs } from '@/test/logs';
import { logger, redactUrl } from './logger';

const SECRET = 'sentinel-secret-4f1c';
const ADDRESS = '77 Sentinel Street';

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.restore());

// Careless log calls a future change might make: the logger's redaction is the last line of
// defence, so each of these must come out without the value.
const careless: Array<[string, Record<string, unknown>]> = [
  ['a password', { password: SECRET }],
  ['a nested password', { input: { password: SECRET } }],
  ['a token', { token: SECRET }],
  ['a nested token', { created: { token: SECRET } }],
  ['an Authorization header', { headers: { authorization: `Bearer ${SECRET}` } }],
  ['a request with headers', { req: { headers: { authorization: `Bearer ${SECRET}`, cookie: `s=${SECRET}` } } }],
  ['a cookie', { cookie: `al_session=${SECRET}` }],
  ['a database URL', { databaseUrl: `postgres://app:${SECRET}@db/ledger` }],
  ['event data', { data: { line1: ADDRESS, owner: SECRET } }],
  ['a nested event', { event: { type: 'AddressRegistered', data: { line1: ADDRESS, owner: SECRET } } }],
];

describe('logger redaction', () => {
  it.each(careless)('keeps %s out of the log line', (_, fields) => {
    logs = captureLogs();
    logger.info(fields, 'careless log call');
    expect(logs.lines).toHaveLength(1);
    const line = logs.lines[0]!;
    expect(line).toContain('careless log call');
    expect(line).toContain('[redacted]');
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain(ADDRESS);
  });

  it('keeps what is safe to log', () => {
    logs = captureLogs();
    logger.info({ requestId: 'r-1', status: 201, path: '/api/addresses' }, 'api request');
    expect(JSON.parse(logs.lines[0]!)).toMatchObject({ requestId: 'r-1', status: 201, path: '/api/addresses' });
  });

  it('strips the password from a connection string', () => {
    expect(redactUrl(`postgres://app:${SECRET}@db:5432/ledger`)).toBe('postgres://app:***@db:5432/ledger');
    expect(redactUrl('not a url')).toBe('[unparseable url]');
  });
});
