/**
 * Next.js calls `register()` once when the web server starts (never during `next build`). It
 * refuses a superuser DATABASE_URL unless ALLOW_SUPERUSER=1 (README "Security"), also when the
 * server is started with `next start` rather than `npm start` (which checks before it builds).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs' || !process.env.DATABASE_URL) return;
  const { checkRuntimeRole, SuperuserRefusedError } = await import('@/lib/database-roles');
  const { logger } = await import('@/lib/logger');
  try {
    await checkRuntimeRole(process.env.DATABASE_URL, 'the web server');
  } catch (error) {
    if (error instanceof SuperuserRefusedError) {
      logger.fatal({ component: 'web' }, error.message);
      process.exit(1);
    }
    // An unreachable database must not keep the server down: health then answers 503, and search
    // on Meilisearch keeps working (README "Read side and availability").
    logger.warn({ component: 'web', err: String(error) }, 'could not check the database role at start');
  }
}
