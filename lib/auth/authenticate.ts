import type { Actor } from '@/domain/messages';
import type { Db } from '@/lib/db';
import { ForbiddenError, UnauthorizedError } from './errors';
import { can, type Permission } from './permissions';
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
    // SameSite=Lax already keeps the cookie off cross-site POSTs; checking Origin as well covers
    // sibling subdomains and older browsers. Browsers always send Origin on non-GET fetches.
    if (!SAFE_METHODS.has(input.method.toUpperCase()) && !sameOrigin(input.origin, input.host)) {
      throw new ForbiddenError('cross-origin request refused: send writes from this site, or use an API token');
    }
    return { actor, via: 'session' };
  }

  throw new UnauthorizedError();
}

export function sameOrigin(origin: string | null, host: string | null): boolean {
  if (!origin || !host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/** 403 unless the actor's role grants the permission (DESIGN §6). */
export function requirePermission(actor: Actor, permission: Permission): Actor {
  if (actor.role === 'system' || !can(actor.role, permission)) {
    throw new ForbiddenError(`your role (${actor.role}) does not allow this`);
  }
  return actor;
}
