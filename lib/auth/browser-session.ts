import { cookies, headers } from 'next/headers';
import { prisma } from '@/lib/db';
import { endSession, SESSION_COOKIE, sessionCookieOptions } from './sessions';

/**
 * Cookie handling for the sign-in, setup and sign-out server actions (Next.js request scope).
 */

export async function setSessionCookie(sealed: string): Promise<void> {
  const h = await headers();
  (await cookies()).set(SESSION_COOKIE, sealed, sessionCookieOptions(h.get('x-forwarded-host') ?? h.get('host')));
}

/** Ends the session on the server (the row is deleted) and clears the cookie. */
export async function clearSession(): Promise<void> {
  const store = await cookies();
  const sealed = store.get(SESSION_COOKIE)?.value;
  if (sealed) await endSession(prisma(), sealed);
  store.delete(SESSION_COOKIE);
}

/**
 * The client address for rate limiting. The last X-Forwarded-For entry is the one added by the
 * nearest proxy (Next.js itself fills it from the socket when absent); earlier entries are
 * whatever the client claimed. Without a proxy a client can still pick it, which is why sign-in
 * also limits per e-mail address.
 */
export async function clientIp(): Promise<string> {
  const h = await headers();
  const forwarded = h.get('x-forwarded-for');
  const last = forwarded?.split(',').at(-1)?.trim();
  return last || h.get('x-real-ip') || 'unknown';
}
