import { createHash } from 'node:crypto';
import type { Actor } from '@/domain/messages';
import type { Db } from '@/lib/db';
import { isDatabaseUnavailable } from '@/lib/db-errors';
import { sameOrigin } from './client-address';
import { ForbiddenError, UnauthorizedError } from './errors';
import { actorCan, type Permission } from './permissions';
import { resolveSession } from './sessions';
import { authenticateToken } from './tokens';
import { usersExist } from './users';

export const SETUP_REQUIRED_MESSAGE = 'no account exists yet: open /setup in a browser to create the first admin';

export interface AuthInput {
  method: string;
  /** The raw Authorization header, if any. */
  authorization: string | null;
  /** The sealed session cookie value, if any. */
  sessionCookie: string | null;
  /** For the same-origin check on cookie-authenticated writes. */
  origin: string | null;
  host: string | null;
}

export interface Authenticated {
  actor: Actor;
  via: 'token' | 'session';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who is calling: a bearer token when an Authorization header is present (and then only that: a
 * bad token is a 401, never a fallback to the cookie), otherwise the session cookie. Nothing in
 * the request body or any other header can name the actor.
 */
export async function authenticate(db: Db, input: AuthInput): Promise<Authenticated> {
  const key = credentialKey(input);
  try {
    const result = await verify(db, input);
    if (key) verified.remember(key, result);
    return result;
  } catch (error) {
    if (key && isDatabaseUnavailable(error)) {
      // The database is down: a credential verified a short while ago still names the same actor
      // (nobody can revoke it while the database is down either), so reads served from elsewhere
      // (Meilisearch) keep working. An unknown credential cannot be checked: the error stands.
      const known = verified.recall(key);
      if (known) {
        checkSessionOrigin(known.via, input);
        return known;
      }
    }
    if (key && (error instanceof UnauthorizedError || error instanceof ForbiddenError)) verified.forget(key);
    throw error;
  }
}

async function verify(db: Db, input: AuthInput): Promise<Authenticated> {
  if (!(await usersExist(db))) throw new UnauthorizedError(SETUP_REQUIRED_MESSAGE);

  if (input.authorization !== null) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(input.authorization);
    if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <API token>"');
    const actor = await authenticateToken(db, match[1]!);
    if (!actor) throw new UnauthorizedError('the API token is not valid (unknown or revoked)');
    return { actor, via: 'token' };
  }

  if (input.sessionCookie) {
    const actor = await resolveSession(db, input.sessionCookie);
    if (!actor) throw new UnauthorizedError('your session has ended; sign in again');
    checkSessionOrigin('session', input);
    return { actor, via: 'session' };
  }

  throw new UnauthorizedError();
}

function checkSessionOrigin(via: Authenticated['via'], input: AuthInput): void {
  // SameSite=Lax already keeps the cookie off cross-site POSTs; checking Origin as well covers
  // sibling subdomains and older browsers. Browsers always send Origin on non-GET fetches.
  if (via === 'session' && !SAFE_METHODS.has(input.method.toUpperCase()) && !sameOrigin(input.origin, input.host)) {
    throw new ForbiddenError('cross-origin request refused: send writes from this site, or use an API token');
  }
}

/** The credential a request presents, hashed (the cache never holds a usable secret). */
function credentialKey(input: AuthInput): string | null {
  const raw = input.authorization ?? (input.sessionCookie ? `cookie:${input.sessionCookie}` : null);
  return raw ? createHash('sha256').update(raw).digest('hex') : null;
}

/**
 * Credentials verified against the database in the last few minutes, consulted only while the
 * database is unreachable. Normal requests always ask the database, so a revoked token or a
 * disabled user is refused on the very next request.
 */
const verified = (() => {
  const TTL_MS = 10 * 60_000;
  const MAX = 10_000;
  const entries = new Map<string, { result: Authenticated; at: number }>();
  return {
    remember(key: string, result: Authenticated) {
      entries.delete(key);
      entries.set(key, { result, at: Date.now() });
      if (entries.size > MAX) entries.delete(entries.keys().next().value!);
    },
    recall(key: string): Authenticated | null {
      const entry = entries.get(key);
      return entry && Date.now() - entry.at < TTL_MS ? entry.result : null;
    },
    forget(key: string) {
      entries.delete(key);
    },
  };
})();

/** 403 unless the actor's role grants the permission (DESIGN §6). */
export function requirePermission(actor: Actor, permission: Permission): Actor {
  if (!actorCan(actor, permission)) {
    throw new ForbiddenError(`your role (${actor.role}) does not allow this`);
  }
  return actor;
}
