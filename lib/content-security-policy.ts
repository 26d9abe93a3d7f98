/**
 * The Content-Security-Policy, set per request by proxy.ts. Scripts run only with the request's
 * nonce ('strict-dynamic' lets the scripts Next.js loads with it load their chunks), so a script
 * injected into a page would not run; 'unsafe-inline' for scripts is gone. Styles keep
 * 'unsafe-inline' (Next.js and React set inline style attributes, which a nonce cannot cover).
 * Everything else is locked to this origin; no third-party origin is allowed anywhere. React
 * needs 'unsafe-eval' only in development (error overlays).
 */
const isDev = process.env.NODE_ENV === 'development';

export function pageContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${isDev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** JSON answers never render: nothing may load from them, and nobody may frame them. */
export const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
