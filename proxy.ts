import { type NextRequest, NextResponse } from 'next/server';
import { SESSION_COOKIE } from '@/lib/auth/session-cookie-name';

/**
 * An optimistic gate in front of the pages: a visitor without a session cookie is sent to sign in
 * (and the sign-in page sends them on to /setup while no account exists), so no page renders for
 * an anonymous visitor. It only looks at the cookie's presence; whether the session is real, and
 * what the role allows, is checked on the server by every page, action and route handler
 * (lib/auth/request-actor.ts). API routes answer 401/403 themselves, so they are not matched.
 */
export function proxy(request: NextRequest) {
  if (request.cookies.has(SESSION_COOKIE)) return NextResponse.next();
  const url = request.nextUrl.clone();
  const from = `${url.pathname}${url.search}`;
  url.pathname = '/sign-in';
  url.search = from === '/' ? '' : `?next=${encodeURIComponent(from)}`;
  return NextResponse.redirect(url);
}

export const config = {
  matcher: [
    // Everything except the API, Next's assets, files with an extension, and the pages that
    // must work without a session.
    '/((?!api/|_next/|sign-in|setup|favicon\\.ico|.*\\.[a-zA-Z0-9]+$).*)',
  ],
};
