import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { captureLogs } from '@/test/logs';
import { authenticate, SETUP_REQUIRED_MESSAGE } from './authenticate';
import { AccountRuleError, ForbiddenError, UnauthorizedError } from './errors';
import { createSession, resolveSession, SESSION_TTL_SECONDS, sessionSecret } from './sessions';
import { SIGN_IN_FAILED, SIGN_IN_LIMITS, signIn } from './sign-in';
import {
  authenticateToken,
  createApiToken,
  hashToken,
  listApiTokens,
  revokeApiToken,
  revokeApiTokenByName,
  rotateApiToken,
} from './tokens';
import {
  changeRole,
  createFirstAdmin,
  createUser,
  disableUser,
  enableUser,
  listUsers,
  setPassword,
  usersExist,
} from './users';

let t: TestDatabase;
const ADMIN_PASSWORD = 'correct horse battery staple';
const logs = captureLogs();

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  logs.restore();
  await t?.drop();
});

const request = (over: Partial<Parameters<typeof authenticate>[1]> = {}) => ({
  method: 'GET',
  authorization: null,
  sessionCookie: null,
  origin: null,
  host: 'localhost:3000',
  ...over,
});

describe('first run', () => {
  it('refuses every request with a pointer to /setup while no account exists', async () => {
    expect(await usersExist(t.prisma)).toBe(false);
    await expect(authenticate(t.prisma, request())).rejects.toThrow(new UnauthorizedError(SETUP_REQUIRED_MESSAGE));
  });

  it('lets exactly one of several simultaneous visitors create the first admin', async () => {
    const attempts = await Promise.allSettled(
      [1, 2, 3].map((n) =>
        createFirstAdmin(t.prisma, { email: `Admin${n}@Example.org `, name: `Admin ${n}`, password: ADMIN_PASSWORD }),
      ),
    );
    const created = attempts.filter((a) => a.status === 'fulfilled');
    expect(created).toHaveLength(1);
    for (const failed of attempts.filter((a) => a.status === 'rejected')) {
      expect((failed as PromiseRejectedResult).reason).toMatchObject({ rule: 'setup_closed' });
    }
    const users = await listUsers(t.prisma);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ role: 'admin', disabledAt: null });
    // E-mail addresses are stored trimmed and lower-cased.
    expect(users[0]!.email).toMatch(/^admin\d@example\.org$/);
  });

  it('refuses the setup form once an account exists', async () => {
    await expect(
      createFirstAdmin(t.prisma, { email: 'late@example.org', name: 'Late', password: ADMIN_PASSWORD }),
    ).rejects.toMatchObject({ rule: 'setup_closed' });
  });
});

describe('users', () => {
  it('refuses a second account with the same e-mail address in another case', async () => {
    await createUser(t.prisma, {
      email: 'op@example.org',
      name: 'Olga Operator',
      role: 'operator',
      password: 'operator-pass-1',
    });
    await expect(
      createUser(t.prisma, { email: 'OP@example.org', name: 'Other', role: 'auditor', password: 'operator-pass-2' }),
    ).rejects.toMatchObject({ rule: 'email_taken' });
  });

  it('refuses short passwords and unknown roles', async () => {
    await expect(
      createUser(t.prisma, { email: 'short@example.org', name: 'S', role: 'operator', password: 'short' }),
    ).rejects.toThrow(/at least 12/);
    await expect(
      // @ts-expect-error: not a role
      createUser(t.prisma, { email: 'root@example.org', name: 'R', role: 'root', password: 'long-enough-pass' }),
    ).rejects.toThrow();
  });

  it('never stores a password in clear: only an argon2id hash is in the users table', async () => {
    const password = 'plain-text-must-not-appear-1';
    const user = await createUser(t.prisma, { email: 'clear@example.org', name: 'Clara', role: 'auditor', password });
    const rows = await t.pool.query('SELECT * FROM users');
    const dump = JSON.stringify(rows.rows);
    expect(dump).not.toContain(password);
    expect(dump).not.toContain(ADMIN_PASSWORD);
    const row = rows.rows.find((r) => r.id === user.id);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses to disable or demote the last active admin', async () => {
    const [admin] = (await listUsers(t.prisma)).filter((u) => u.role === 'admin');
    await expect(disableUser(t.prisma, admin!.id)).rejects.toMatchObject({ rule: 'last_admin' });
    await expect(changeRole(t.prisma, admin!.id, 'operator')).rejects.toMatchObject({ rule: 'last_admin' });
    const after = (await listUsers(t.prisma)).find((u) => u.id === admin!.id);
    expect(after).toMatchObject({ role: 'admin', disabledAt: null });
  });
});

async function signedIn(email: string, password: string) {
  const result = await signIn(t.prisma, { email, password, ip: '203.0.113.7' });
  if (!result.ok) throw new Error(result.message);
  return result;
}

describe('sessions', () => {
  it('signs in with the right password and resolves the session to the user, with the role read fresh', async () => {
    const { sealedSession, actor } = await signedIn('op@example.org', 'operator-pass-1');
    expect(actor).toMatchObject({ name: 'Olga Operator', role: 'operator' });
    const auth = await authenticate(t.prisma, request({ sessionCookie: sealedSession }));
    expect(auth).toEqual({ actor, via: 'session' });

    await changeRole(t.prisma, actor.id, 'auditor');
    expect((await authenticate(t.prisma, request({ sessionCookie: sealedSession }))).actor.role).toBe('auditor');
    await changeRole(t.prisma, actor.id, 'operator');
  });

  it('refuses a disabled user on the very next request, and lets them back in when re-enabled', async () => {
    const user = await createUser(t.prisma, {
      email: 'dis@example.org',
      name: 'Dis',
      role: 'operator',
      password: 'disabled-pass-1',
    });
    const { sealedSession } = await signedIn('dis@example.org', 'disabled-pass-1');
    expect((await authenticate(t.prisma, request({ sessionCookie: sealedSession }))).actor.id).toBe(user.id);

    await disableUser(t.prisma, user.id);
    await expect(authenticate(t.prisma, request({ sessionCookie: sealedSession }))).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    // Signing in again fails with the same message as a wrong password: disabled is not disclosed.
    const again = await signIn(t.prisma, { email: 'dis@example.org', password: 'disabled-pass-1', ip: '198.51.100.1' });
    expect(again).toMatchObject({ ok: false, message: SIGN_IN_FAILED });

    await enableUser(t.prisma, user.id);
    // Disabling ended the old session for good; a new sign-in works.
    expect(await resolveSession(t.prisma, sealedSession)).toBeNull();
    await signedIn('dis@example.org', 'disabled-pass-1');
  });

  it('ends every session of a user whose password is reset', async () => {
    const { sealedSession, actor } = await signedIn('op@example.org', 'operator-pass-1');
    await setPassword(t.prisma, actor.id, 'operator-pass-new');
    expect(await resolveSession(t.prisma, sealedSession)).toBeNull();
    await setPassword(t.prisma, actor.id, 'operator-pass-1');
  });

  it('treats a tampered, foreign or expired cookie as no session', async () => {
    const { sealedSession, actor } = await signedIn('op@example.org', 'operator-pass-1');
    const tampered = `${sealedSession.slice(0, 40)}${sealedSession[40] === 'A' ? 'B' : 'A'}${sealedSession.slice(41)}`;
    expect(await resolveSession(t.prisma, tampered)).toBeNull();
    expect(await resolveSession(t.prisma, 'not-a-seal')).toBeNull();

    const sealed = await createSession(t.prisma, actor.id);
    await t.prisma.session.updateMany({
      where: { userId: actor.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await resolveSession(t.prisma, sealed)).toBeNull();
  });

  it('keeps the generated cookie key in the database, the same for every process', async () => {
    const key = await sessionSecret(t.prisma);
    expect(key.length).toBeGreaterThanOrEqual(32);
    const rows = await t.pool.query("SELECT value FROM app_secrets WHERE name = 'session_cookie_key'");
    expect(rows.rows).toEqual([{ value: key }]);
    expect(SESSION_TTL_SECONDS).toBeLessThanOrEqual(24 * 3600);
  });

  it('refuses a cookie-authenticated write from another origin, and accepts one from this origin', async () => {
    const { sealedSession } = await signedIn('op@example.org', 'operator-pass-1');
    const post = (origin: string | null) =>
      authenticate(t.prisma, request({ method: 'POST', sessionCookie: sealedSession, origin }));
    await expect(post('https://evil.example')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(post(null)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(post('http://localhost:3000')).resolves.toMatchObject({ via: 'session' });
  });
});

describe('sign-in failures', () => {
  it('gives the same message for an unknown e-mail, a wrong password and garbage input', async () => {
    const ip = '192.0.2.10';
    const results = await Promise.all([
      signIn(t.prisma, { email: 'nobody@example.org', password: 'whatever-password', ip }),
      signIn(t.prisma, { email: 'op@example.org', password: 'wrong-password!!', ip }),
      signIn(t.prisma, { email: 'not an email', password: '', ip }),
    ]);
    for (const r of results) expect(r).toEqual({ ok: false, reason: 'invalid', message: SIGN_IN_FAILED });
  });

  it('blocks an IP and e-mail pair after repeated failures, even for the right password, without locking out other IPs', async () => {
    await createUser(t.prisma, {
      email: 'target@example.org',
      name: 'T',
      role: 'auditor',
      password: 'target-password',
    });
    const ip = '192.0.2.99';
    for (let i = 0; i < SIGN_IN_LIMITS.ipEmail.points; i++) {
      const r = await signIn(t.prisma, { email: 'target@example.org', password: `guess-${i}-xxxxxx`, ip });
      expect(r).toMatchObject({ ok: false, reason: 'invalid' });
    }
    const blocked = await signIn(t.prisma, { email: 'Target@example.org', password: 'target-password', ip });
    expect(blocked).toMatchObject({ ok: false, reason: 'rate_limited' });
    if (!blocked.ok) expect(blocked.retryAfterSeconds).toBeGreaterThan(0);

    const elsewhere = await signIn(t.prisma, {
      email: 'target@example.org',
      password: 'target-password',
      ip: '192.0.2.100',
    });
    expect(elsewhere.ok).toBe(true);
    // The limiter keeps hashes only: no e-mail or IP address in its table.
    const dump = JSON.stringify((await t.pool.query('SELECT * FROM sign_in_limits')).rows);
    expect(dump).not.toContain('target@example.org');
    expect(dump).not.toContain('192.0.2.99');
  });
});

describe('API tokens', () => {
  it('shows the token once, stores only its SHA-256, and records when it was last used', async () => {
    const { token, secret } = await createApiToken(t.prisma, { name: 'importer', role: 'operator' }, null);
    expect(secret).toMatch(/^alt_[A-Za-z0-9_-]{43}$/);
    const row = (await t.pool.query('SELECT * FROM api_tokens WHERE id = $1', [token.id])).rows[0];
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.token_hash).toBe(hashToken(secret));
    expect(row.last_used_at).toBeNull();

    const auth = await authenticate(t.prisma, request({ authorization: `Bearer ${secret}` }));
    expect(auth).toEqual({
      via: 'token',
      actor: { id: `token:${token.id}`, name: 'importer (API token)', role: 'operator' },
    });
    const used = (await t.pool.query('SELECT last_used_at FROM api_tokens WHERE id = $1', [token.id])).rows[0];
    expect(used.last_used_at).toBeInstanceOf(Date);
  });

  it('needs no Origin for token-authenticated writes (integrations are not browsers)', async () => {
    const { secret } = await createApiToken(t.prisma, { name: 'writer', role: 'operator' }, null);
    await expect(
      authenticate(t.prisma, request({ method: 'POST', authorization: `Bearer ${secret}` })),
    ).resolves.toMatchObject({ via: 'token' });
  });

  it('refuses a revoked token on the next request', async () => {
    const { token, secret } = await createApiToken(t.prisma, { name: 'short-lived', role: 'auditor' }, null);
    expect(await authenticateToken(t.prisma, secret)).not.toBeNull();
    await revokeApiToken(t.prisma, token.id);
    await expect(authenticate(t.prisma, request({ authorization: `Bearer ${secret}` }))).rejects.toThrow(/not valid/);
  });

  it('rotates a token: the old secret stops working, the new one keeps the name and role', async () => {
    const { token, secret } = await createApiToken(t.prisma, { name: 'rotating', role: 'auditor' }, null);
    const [admin] = await listUsers(t.prisma);
    const rotated = await rotateApiToken(t.prisma, token.id, admin!.id);
    expect(await authenticateToken(t.prisma, secret)).toBeNull();
    expect(await authenticateToken(t.prisma, rotated.secret)).toMatchObject({ role: 'auditor' });
    expect(rotated.token).toMatchObject({ name: 'rotating', role: 'auditor', createdByName: admin!.name });
    await expect(rotateApiToken(t.prisma, token.id, null)).rejects.toMatchObject({ rule: 'not_found' });
  });

  it('keeps active token names unique and revokes by name', async () => {
    await createApiToken(t.prisma, { name: 'nightly', role: 'operator' }, null);
    await expect(createApiToken(t.prisma, { name: 'nightly', role: 'operator' }, null)).rejects.toBeInstanceOf(
      AccountRuleError,
    );
    const revoked = await revokeApiTokenByName(t.prisma, 'nightly');
    expect(revoked).toHaveLength(1);
    expect((await listApiTokens(t.prisma)).map((x) => x.name)).not.toContain('nightly');
    await createApiToken(t.prisma, { name: 'nightly', role: 'operator' }, null);
  });

  it('answers a malformed Authorization header or unknown token with 401, never falling back to the cookie', async () => {
    const { sealedSession } = await signedIn('op@example.org', 'operator-pass-1');
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer alt_unknown', `Bearer alt_${'x'.repeat(43)}`]) {
      await expect(
        authenticate(t.prisma, request({ authorization, sessionCookie: sealedSession })),
      ).rejects.toBeInstanceOf(UnauthorizedError);
    }
  });
});

describe('logs', () => {
  it('never contain a password, a token or a session cookie', async () => {
    // Everything above ran with the logger captured (see captureLogs at the top of this file).
    const { secret } = await createApiToken(t.prisma, { name: 'log-check', role: 'operator' }, null);
    await authenticate(t.prisma, request({ authorization: `Bearer ${secret}` }));
    const { sealedSession } = await signedIn('op@example.org', 'operator-pass-1');
    await signIn(t.prisma, { email: 'op@example.org', password: 'wrong-password-in-logs', ip: '192.0.2.1' });

    const all = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(5);
    for (const secretValue of [
      ADMIN_PASSWORD,
      'operator-pass-1',
      'plain-text-must-not-appear-1',
      'wrong-password-in-logs',
      secret,
      sealedSession,
    ]) {
      expect(all).not.toContain(secretValue);
    }
    // Nor e-mail addresses (personal data): log lines name users by id.
    expect(all).not.toMatch(/@example\.org/);
  });
});

describe('accounts made without an admin (command line)', () => {
  it('can still be changed: only removing the last active admin is refused', async () => {
    const other = await createTestDatabase();
    try {
      const auditor = await createUser(other.prisma, {
        email: 'solo@example.org',
        name: 'Solo',
        role: 'auditor',
        password: 'solo-password-1',
      });
      await expect(disableUser(other.prisma, auditor.id)).resolves.toMatchObject({ disabledAt: expect.any(Date) });
    } finally {
      await other.drop();
    }
  });
});
