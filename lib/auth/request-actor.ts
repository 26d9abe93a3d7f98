import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import type { Actor } from '@/domain/messages';
import { prisma } from '@/lib/db';
import { type Authenticated, authenticate, requirePermission } from './authenticate';
import { clientAddress } from './client-address';
import { UnauthorizedError } from './errors';
import { can, type Permission } from './permissions';
import { readCookie, SESSION_COOKIE } from './sessions';
import { usersExist } from './users';

/**
 * The one way the app learns who is calling. Route handlers pass their Request; pages and server
 * actions use the Next.js request scope. The actor written into event metadata comes only from
 * here: an API token (Authorization: Bearer) or the session cookie, never from a body or header.
 */

/** X-Forwarded-Host counts only from a proxy in TRUSTED_PROXIES (lib/auth/client-address.ts). */
function hostOf(h: Headers): string | null {
  return clientAddress(h).host;
}

/** Authenticates a route handler's request (token or session) without checking a permission. */
export function authenticateRequest(request: Request): Promise<Authenticated> {
  return authenticate(prisma(), {
    method: request.method,
    authorization: request.headers.get('authorization'),
    sessionCookie: readCookie(request.headers.get('cookie'), SESSION_COOKIE),
    origin: request.headers.get('origin'),
    // Next.js builds request.url from the Host header; a hand-made Request may carry only the URL.
    host: hostOf(request.headers) ?? new URL(request.url).host,
  });
}

/**
 * For route handlers: the caller's actor if their role grants `permission`.
 * @throws UnauthorizedError (401) no/invalid credentials, ended session, disabled user, revoked token, or no account exists yet
 * @throws ForbiddenError (403) the role lacks the permission, or a cookie-authenticated write came from another origin
 */
export async function authorize(request: Request, permission: Permission): Promise<Actor> {
  const { actor } = await authenticateRequest(request);
  return requirePermission(actor, permission);
}

async function scopeAuthenticate(): Promise<Authenticated> {
  const [h, c] = await Promise.all([headers(), cookies()]);
  return authenticate(prisma(), {
    // Server actions are POSTs, but Next.js checks their Origin against the host itself
    // (serverActions origin check, kept on in next.config.js), so the extra check is not needed here.
    method: 'GET',
    authorization: h.get('authorization'),
    sessionCookie: c.get(SESSION_COOKIE)?.value ?? null,
    origin: h.get('origin'),
    host: hostOf(h),
  });
}

/**
 * For server actions (and pages that prefer to handle the error): the signed-in actor if their
 * role grants `permission`. Throws UnauthorizedError / ForbiddenError like `authorize`.
 */
export async function currentActor(permission: Permission): Promise<Actor> {
  const { actor } = await scopeAuthenticate();
  return requirePermission(actor, permission);
}

/** The signed-in actor, or null (e.g. for a navigation bar). Never throws for auth reasons. */
export async function sessionActor(): Promise<Actor | null> {
  try {
    return (await scopeAuthenticate()).actor;
  } catch (error) {
    if (error instanceof UnauthorizedError) return null;
    throw error;
  }
}

/**
 * For pages: the actor, or a redirect to where the visitor can fix it: /setup before the first
 * account exists, /sign-in when not signed in, /forbidden when the role lacks the permission.
 * `from` is the page's own path, to come back to after signing in.
 */
export async function pageActor(permission: Permission, from?: string): Promise<Actor> {
  if (!(await usersExist(prisma()))) redirect('/setup');
  const actor = await sessionActor();
  if (!actor) redirect(from?.startsWith('/') ? `/sign-in?next=${encodeURIComponent(from)}` : '/sign-in');
  if (actor.role === 'system' || !can(actor.role, permission)) redirect('/forbidden');
  return actor;
}
