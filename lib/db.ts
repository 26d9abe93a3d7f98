import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '@/generated/prisma/client';
import { logger } from './logger';

export type Db = PrismaClient;

const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * A Prisma client on the pure-JS `pg` driver: no Rust engine is needed at run time. Its pool is
 * ours (ended with the client), so the command path can use it directly: see `poolOf`.
 */
export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const pool = createPool(databaseUrl, options);
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(client, pool);
  return client;
}

/**
 * The `pg` pool under a client made by `createPrisma`, for the few hot statements that are
 * faster as prepared statements on plain `pg` (domain/event-store/postgres-event-store.ts).
 */
export function poolOf(db: PrismaClient): pg.Pool | undefined {
  return pools.get(db);
}

export function createPool(databaseUrl: string, options: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // An idle client whose connection the server ends (a restart, pg_terminate_backend, a dropped
  // database) emits 'error' on the pool; without a listener that is an uncaught exception that
  // kills the process. The pool drops that client and the next query opens a new one.
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle database connection lost'));
  return pool;
}

/**
 * Runs `fn` on a client of its own from `pool`. The client goes back to the pool unless `fn` failed
 * with an error `retire` says leaves the connection unfit, or its socket died meanwhile: checked
 * out, a client has no other 'error' listener, and an unheard 'error' kills the process.
 */
export async function withPoolClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  retire: (error: unknown) => boolean,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (error) {
    if (retire(error)) broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export function requireDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set. `npm start` sets it for the embedded PostgreSQL; set it yourself to use another server.',
    );
  }
  return url;
}

/**
 * Where migrations run: MIGRATION_DATABASE_URL (the owner role), else DATABASE_URL, which works
 * only if that role may apply what is pending (README "Security"). Never passed to the web server.
 */
export function migrationDatabaseUrl(): string {
  return process.env.MIGRATION_DATABASE_URL || requireDatabaseUrl();
}

// Next.js dev reloads modules; keeping the client on globalThis avoids opening a new pool per reload.
// Keyed by URL so a test that points DATABASE_URL at its own database gets its own client.
const globalForDb = globalThis as unknown as { __ledgerPrisma?: Map<string, PrismaClient> };

/** The process-wide client for DATABASE_URL (the app, the CLIs, and route tests). */
export function prisma(): PrismaClient {
  const url = requireDatabaseUrl();
  globalForDb.__ledgerPrisma ??= new Map();
  let client = globalForDb.__ledgerPrisma.get(url);
  if (!client) {
    client = createPrisma(url);
    globalForDb.__ledgerPrisma.set(url, client);
  }
  return client;
}
