import { cookies, headers } from 'next/headers';
import { prisma } from '@/lib/db';
import { clientAddress } from './client-address';
import { endSession, SESSION_COOKIE, sessionCookieOptions } from './sessions';
import { DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE } from './sign-in';

/**
 * Cookie handling for the sign-in, setup and sign-out server actions (Next.js request scope).
 */

export async function setSessionCookie(sealed: string): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, sealed, sessionCookieOptions(clientAddress(await headers()).host));
}

/** The device cookie (lib/auth/sign-in.ts): kept across sign-outs, so this browser keeps its own budget. */
export async function deviceCookie(): Promise<string | null> {
  return (await cookies()).get(DEVICE_COOKIE)?.value ?? null;
}

export async function setDeviceCookie(sealed: string): Promise<void> {
  const options = sessionCookieOptions(clientAddress(await headers()).host);
  (await cookies()).set(DEVICE_COOKIE, sealed, { ...options, maxAge: DEVICE_COOKIE_MAX_AGE });
}

/** Ends the session on the server (the row is deleted) and clears the cookie. */
export async function clearSession(): Promise<void> {
  const store = await cookies();
  const sealed = store.get(SESSION_COOKIE)?.value;
  if (sealed) await endSession(prisma(), sealed);
  store.delete(SESSION_COOKIE);
}

/**
 * The client address for rate limiting: the socket's peer, or the client named by X-Forwarded-For
 * when the peer is a proxy in TRUSTED_PROXIES (lib/auth/client-address.ts). A client-sent
 * X-Forwarded-For never changes it.
 */
export async function clientIp(): Promise<string> {
  return clientAddress(await headers()).ip;
}
