import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { advisoryLock } from './advisory-locks';
import { logger } from './logger';

export const MIGRATIONS_DIR = path.resolve(process.cwd(), 'prisma/migrations');
// Any fixed number works; it only has to be the same in every process that migrates.
const MIGRATION_LOCK = 'migrations';

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies the SQL migrations in Prisma's folder layout (`prisma/migrations/<name>/migration.sql`)
 * and records them in Prisma's own `_prisma_migrations` table, so `prisma migrate status` agrees
 * wherever the schema engine is available. Each migration runs in its own transaction; a session
 * advisory lock held for the whole run makes two processes starting at once apply each migration once.
 */
export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // One migrator at a time, for the whole run (creating the bookkeeping table included: two
    // concurrent CREATE TABLE IF NOT EXISTS can still collide on the table's row type).
    await advisoryLock(client, MIGRATION_LOCK);
    // Asked first: CREATE TABLE IF NOT EXISTS needs the right to create even when the table exists,
    // and the runtime role must be able to confirm that nothing is pending (README "Security").
    const { rows: bookkeeping } = await client.query<{ t: string | null }>(
      `SELECT to_regclass('"_prisma_migrations"')::text AS t`,
    );
    if (!bookkeeping[0]?.t) {
      await client.query(`
      CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0
      )`);
    }

    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();

    const applied: string[] = [];
    let alreadyApplied = 0;
    for (const name of names) {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      await client.query('BEGIN');
      try {
        const done = await client.query<{ checksum: string }>(
          'SELECT checksum FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL',
          [name],
        );
        if (done.rows[0]) {
          if (done.rows[0].checksum !== checksum) {
            throw new Error(
              `migration ${name} was changed after it was applied; add a new migration instead of editing an old one`,
            );
          }
          alreadyApplied++;
          await client.query('COMMIT');
          continue;
        }
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), checksum, name],
        );
        await client.query('COMMIT');
        applied.push(name);
        logger.info({ migration: name }, 'migration applied');
      } catch (error) {
        await client.query('ROLLBACK');
        if ((error as { code?: string }).code === '42501') {
          throw new Error(
            `migration ${name} needs the owner role (${(error as Error).message}): set MIGRATION_DATABASE_URL to the owner's connection string (README "Security")`,
            { cause: error },
          );
        }
        throw error;
      }
    }
    return { applied, alreadyApplied };
  } finally {
    // Ending the session releases the advisory lock.
    await client.end();
  }
}
