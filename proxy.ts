import { type NextRequest, NextResponse } from 'next/server';
import { clientAddress, sameOrigin } from '@/lib/auth/client-address';
import { SESSION_COOKIE } from '@/lib/auth/session-cookie-name';
import { apiContentSecurityPolicy, pageContentSecurityPolicy } from '@/lib/content-security-policy';

/*
 * In front of every request (Next.js 16's proxy.ts, on the Node.js runtime):
 * - a repeated Origin header is refused in the documented error shape (it was a 500; methods
 *   Next.js does not route, such as TRACE, never get here: scripts/web-server.ts refuses them);
 * - a write to a page (a server action: a form post or Next's action fetch) must carry an Origin
 *   naming this host. Next.js itself lets a request without Origin through and compares with a
 *   client-sent X-Forwarded-Host; the API already refused both (lib/auth/authenticate.ts);
 * - pages get a Content-Security-Policy with a fresh nonce, which Next.js puts on its own scripts
 *   (it reads the nonce from the request's policy header), so no inline script without it runs.
 *   Every page is rendered per request anyway (app/layout.tsx), so the nonce costs no static page;
 * - an optimistic gate: a visitor without a session cookie is sent to sign in. It only looks at
 *   the cookie's presence; whether the session is real, and what the role allows, is checked on
 *   the server by every page, action and route handler (lib/auth/request-actor.ts).
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Pages that must work without a session. */
const PUBLIC_PAGES = /^\/(sign-in|setup)(\/|$)/;

function refuse(status: number, code: string, message: string, headers: Record<string, string> = {}): NextResponse {
  return NextResponse.json(
    { error: { code, message } },
    {
      status,
      headers: { 'cache-control': 'no-store', 'content-security-policy': apiContentSecurityPolicy, ...headers },
    },
  );
}

export function proxy(request: NextRequest) {
  const method = request.method.toUpperCase();
  const origin = request.headers.get('origin');
  // Repeated headers arrive joined by commas; an origin never contains one.
  if (origin?.includes(',')) return refuse(403, 'forbidden', 'send the Origin header once');

  const { pathname } = request.nextUrl;
  if (pathname === '/api' || pathname.startsWith('/api/')) {
    const response = NextResponse.next();
    response.headers.set('content-security-policy', apiContentSecurityPolicy);
    return response;
  }

  if (!SAFE_METHODS.has(method) && !sameOrigin(origin, clientAddress(request.headers).host)) {
    return refuse(403, 'forbidden', 'cross-origin request refused: submit forms from this site');
  }

  if (!request.cookies.has(SESSION_COOKIE) && !PUBLIC_PAGES.test(pathname) && SAFE_METHODS.has(method)) {
    const url = request.nextUrl.clone();
    const from = `${url.pathname}${url.search}`;
    url.pathname = '/sign-in';
    url.search = from === '/' ? '' : `?next=${encodeURIComponent(from)}`;
    return NextResponse.redirect(url);
  }

  const nonce = btoa(crypto.randomUUID());
  const policy = pageContentSecurityPolicy(nonce);
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('content-security-policy', policy);
  requestHeaders.set('x-nonce', nonce);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('content-security-policy', policy);
  return response;
}

export const config = {
  matcher: [
    // Everything except Next's static assets, files with an extension (icons, images) and the
    // upload of /import (app/api/imports/route.ts): Next.js buffers in memory, and cuts at 10 MB,
    // the body of every request its proxy sees; that route sets its own headers.
    '/((?!_next/static|_next/image|favicon\\.ico|api/imports$|.*\\.[a-zA-Z0-9]+$).*)',
  ],
};
