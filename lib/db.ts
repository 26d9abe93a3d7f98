import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '@/generated/prisma/client';

export type Db = PrismaClient;

/** A Prisma client on the pure-JS `pg` driver: no Rust engine is needed at run time. */
export function createPrisma(databaseUrl: string, options: { max?: number } = {}): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

export function createPool(databaseUrl: string, options: { max?: number } = {}): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
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
