import { createHash, randomBytes } from 'node:crypto';
import { sealData, unsealData } from 'iron-session';
import type { Actor, Role } from '@/domain/messages';
import type { Db } from '@/lib/db';

import { SESSION_COOKIE } from './session-cookie-name';

export { SESSION_COOKIE };
/** Absolute lifetime: a working day and a bit; after that the user signs in again. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;

const SECRET_NAME = 'session_cookie_key';
const secrets = new WeakMap<Db, Promise<string>>();

/**
 * The key that seals session cookies: SESSION_SECRET when set (at least 32 characters), otherwise
 * one generated on first use and kept in the database, so a fresh clone works without setup and
 * every instance on the same database agrees. It is never logged.
 */
export function sessionSecret(db: Db): Promise<string> {
  const fromEnv = process.env.SESSION_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) {
      return Promise.reject(
        new Error('SESSION_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)'),
      );
    }
    return Promise.resolve(fromEnv);
  }
  let secret = secrets.get(db);
  if (!secret) {
    secret = loadOrCreateSecret(db);
    // A failed load (database down) must not be cached for the life of the process.
    secret.catch(() => secrets.delete(db));
    secrets.set(db, secret);
  }
  return secret;
}

async function loadOrCreateSecret(db: Db): Promise<string> {
  // Two instances starting at once: ON CONFLICT makes one insert win and both read the same value.
  await db.$executeRaw`
    INSERT INTO app_secrets (name, value) VALUES (${SECRET_NAME}, ${randomBytes(32).toString('base64url')})
    ON CONFLICT (name) DO NOTHING`;
  const row = await db.appSecret.findUniqueOrThrow({ where: { name: SECRET_NAME } });
  return row.value;
}

function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Starts a session for a user and returns the sealed cookie value. */
export async function createSession(db: Db, userId: string): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await db.session.create({
    data: { idHash: hashSessionId(id), userId, expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000) },
  });
  return sealData({ sid: id }, { password: await sessionSecret(db), ttl: SESSION_TTL_SECONDS });
}

async function sessionIdOf(db: Db, sealed: string): Promise<string | null> {
  try {
    const data = await unsealData<{ sid?: unknown }>(sealed, {
      password: await sessionSecret(db),
      ttl: SESSION_TTL_SECONDS,
    });
    return typeof data.sid === 'string' ? data.sid : null;
  } catch {
    // A tampered or garbled cookie is simply no session.
    return null;
  }
}

/**
 * The signed-in user for a sealed cookie value, or null when the session is unknown, expired or
 * signed out, or the user is disabled. The role is read fresh each time, so a role change or a
 * disable takes effect on the next request.
 */
export async function resolveSession(db: Db, sealed: string): Promise<Actor | null> {
  const id = await sessionIdOf(db, sealed);
  if (!id) return null;
  const rows = await db.$queryRaw<Array<{ id: string; name: string; role: string }>>`
    UPDATE sessions s SET last_seen_at = now()
    FROM users u
    WHERE s.id_hash = ${hashSessionId(id)} AND s.expires_at > now()
      AND u.id = s.user_id AND u.disabled_at IS NULL
    RETURNING u.id::text AS id, u.name, u.role`;
  const row = rows[0];
  return row ? { id: row.id, name: row.name, role: row.role as Role } : null;
}

/** Sign-out: the row goes, so the cookie is worthless even if someone kept a copy. */
export async function endSession(db: Db, sealed: string): Promise<void> {
  const id = await sessionIdOf(db, sealed);
  if (id) await db.session.deleteMany({ where: { idHash: hashSessionId(id) } });
}

/** Housekeeping; expired rows are already ignored by resolveSession. */
export async function deleteExpiredSessions(db: Db): Promise<number> {
  const { count } = await db.session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return count;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Secure cookies everywhere except on this machine (where the app runs over plain http).
 * SESSION_COOKIE_SECURE=true|false overrides, e.g. for a plain-http test host on a LAN.
 */
export function cookieShouldBeSecure(host: string | null): boolean {
  const override = process.env.SESSION_COOKIE_SECURE;
  if (override === 'true') return true;
  if (override === 'false') return false;
  if (!host) return true;
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return !(LOCAL_HOSTS.has(hostname.toLowerCase()) || hostname.toLowerCase().endsWith('.localhost'));
}

export function sessionCookieOptions(host: string | null) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: cookieShouldBeSecure(host),
    path: '/',
    maxAge: SESSION_TTL_SECONDS - 60,
  };
}

/** Reads one cookie from a raw Cookie header (route handlers get a plain Request). */
export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}
