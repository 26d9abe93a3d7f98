import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IDLE } from '@/app/_lib/form-state';
import { PEER_HEADER, PEER_TOKEN_ENV } from '@/lib/auth/client-address';
import { SESSION_COOKIE } from '@/lib/auth/session-cookie-name';
import { DEVICE_COOKIE, SIGN_IN_LIMITS } from '@/lib/auth/sign-in';
import { createUser } from '@/lib/auth/users';
import { createTestDatabase, type TestDatabase } from '@/test/db';

/*
 * The sign-in server action as a browser reaches it through scripts/web-server.ts: the request
 * carries the socket's address in the peer stamp, and whatever forwarded headers the client typed.
 */
const scope = vi.hoisted(() => ({
  headers: {} as Record<string, string>,
  jar: new Map<string, { value: string; options?: Record<string, unknown> }>(),
}));
vi.mock('next/headers', () => ({
  headers: async () => new Headers(scope.headers),
  cookies: async () => ({
    get: (name: string) => (scope.jar.has(name) ? { name, value: scope.jar.get(name)!.value } : undefined),
    has: (name: string) => scope.jar.has(name),
    set: (name: string, value: string, options?: Record<string, unknown>) => scope.jar.set(name, { value, options }),
    delete: (name: string) => scope.jar.delete(name),
  }),
}));

const { signInAction } = await import('./actions');

let t: TestDatabase;
const USER = { email: 'spoof@example.org', password: 'spoof test password' };
beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  process.env[PEER_TOKEN_ENV] = 'int-test-token';
  await createUser(t.prisma, { ...USER, name: 'Spoof', role: 'operator' });
});
afterAll(async () => {
  delete process.env[PEER_TOKEN_ENV];
  delete process.env.TRUSTED_PROXIES;
  await t?.drop();
});
beforeEach(async () => {
  scope.jar.clear();
  delete process.env.TRUSTED_PROXIES;
  await t.pool.query('DELETE FROM sign_in_limits');
});

function request(peer: string, extra: Record<string, string> = {}) {
  scope.headers = { host: 'localhost:3000', [PEER_HEADER]: `int-test-token ${peer}`, ...extra };
}

async function submit(password: string, next = '/'): Promise<{ redirect?: string; message?: string }> {
  const form = new FormData();
  form.set('email', USER.email);
  form.set('password', password);
  form.set('next', next);
  try {
    return (await signInAction(IDLE, form)) as { message?: string };
  } catch (error) {
    const digest = (error as { digest?: string }).digest;
    if (typeof digest === 'string' && digest.startsWith('NEXT_REDIRECT')) return { redirect: digest.split(';')[2] };
    throw error;
  }
}

describe('signInAction', () => {
  it('keeps one budget per client however X-Forwarded-For is spoofed when no proxy is trusted', async () => {
    for (let i = 0; i < SIGN_IN_LIMITS.ipEmail.points; i++) {
      request('203.0.113.50', { 'x-forwarded-for': `198.51.100.${i}`, 'x-real-ip': `192.0.2.${i}` });
      expect((await submit(`wrong-${i}`)).message).toMatch(/do not match/);
    }
    request('203.0.113.50', { 'x-forwarded-for': '198.51.100.99' });
    expect((await submit(USER.password)).message).toMatch(/Too many failed sign-in attempts/);
    // Another client (another socket address) is not affected.
    request('203.0.113.51');
    expect(await submit(USER.password)).toEqual({ redirect: '/' });
  });

  it('reads the client from X-Forwarded-For when the peer is a trusted proxy', async () => {
    process.env.TRUSTED_PROXIES = '10.0.0.0/8';
    for (let i = 0; i < SIGN_IN_LIMITS.ipEmail.points; i++) {
      request('10.0.0.2', { 'x-forwarded-for': '198.51.100.1' });
      await submit(`wrong-${i}`);
    }
    request('10.0.0.2', { 'x-forwarded-for': '198.51.100.1' });
    expect((await submit(USER.password)).message).toMatch(/Too many/);
    request('10.0.0.2', { 'x-forwarded-for': '198.51.100.2' });
    expect(await submit(USER.password)).toEqual({ redirect: '/' });
  });

  it('sets a device cookie that survives a lockout of unknown clients', async () => {
    request('203.0.113.60');
    expect(await submit(USER.password)).toEqual({ redirect: '/' });
    const device = scope.jar.get(DEVICE_COOKIE);
    expect(device?.options).toMatchObject({ httpOnly: true, sameSite: 'lax' });
    for (let i = 0; i < SIGN_IN_LIMITS.email.points; i++) {
      request(`192.0.2.${i}`);
      scope.jar.clear();
      await submit(`attacker-${i}`);
    }
    request('203.0.113.61');
    scope.jar.clear();
    expect((await submit(USER.password)).message).toMatch(/Too many/);
    scope.jar.set(DEVICE_COOKIE, { value: device!.value });
    expect(await submit(USER.password)).toEqual({ redirect: '/' });
    expect(scope.jar.has(SESSION_COOKIE)).toBe(true);
  });

  it('redirects only to a path on this site, and never with a broken header, after a successful sign-in', async () => {
    for (const next of ['/\t/evil.example', '/\r\n/evil.example', '/admin\r\n', '//evil.example', '/\\evil.example']) {
      request('203.0.113.70');
      const { redirect } = await submit(USER.password, next);
      expect(redirect, JSON.stringify(next)).toMatch(/^\/(?![/\\])/);
      expect(redirect).not.toMatch(/\p{Cc}/u);
    }
  });

  it('lands on the search page when next is missing or unusable', async () => {
    for (const next of ['', '//evil.example', 'https://evil.example/']) {
      request('203.0.113.71');
      expect(await submit(USER.password, next), JSON.stringify(next)).toEqual({ redirect: '/addresses' });
    }
  });

  it('sets the Secure flag from the Host a client reached, not from a client-sent X-Forwarded-Host', async () => {
    request('203.0.113.80', { host: 'ledger.example.org', 'x-forwarded-host': 'localhost' });
    await submit(USER.password);
    expect(scope.jar.get(SESSION_COOKIE)?.options).toMatchObject({ secure: true });
  });
});
