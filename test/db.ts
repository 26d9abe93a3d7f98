import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPrisma, type Db } from '@/lib/db';
import { waitFor } from './wait';

export interface TestDatabase {
  url: string;
  prisma: Db;
  /** A raw pool for tests that need several real connections (e.g. interleaved transactions). */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, cloned from the template that global-setup
 * migrated: files never see each other's events, and cloning is far faster than migrating.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  // `empty`: a database with no migrations applied, for testing the migrator itself.
  const template = options.empty ? 'template0' : inject('pgTemplateDb');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Two files cloning at the same instant can collide on the template's lock; a retry settles it.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const prisma = createPrisma(url.toString(), { max: 30 });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 30 });
  return {
    url: url.toString(),
    prisma,
    pool,
    async drop() {
      await prisma.$disconnect();
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Consumes transaction ids until the next one has one more decimal digit (999 → 1000), using
 * subtransactions (each write in a BEGIN … EXCEPTION block gets an id of its own; cheap).
 */
export async function burnTransactionIdsToNextPowerOfTen(q: { query: pg.Pool['query'] }): Promise<string> {
  const { rows } = await q.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x');
  const current = BigInt(rows[0]!.x);
  const target = 10n ** BigInt(current.toString().length);
  const n = Number(target - current) + 5;
  await q.query(`
    DO $$ BEGIN
      CREATE TEMP TABLE IF NOT EXISTS xid_burner (x int) ON COMMIT DROP;
      FOR i IN 1..${n} LOOP
        BEGIN INSERT INTO xid_burner VALUES (i); EXCEPTION WHEN others THEN NULL; END;
      END LOOP;
    END $$`);
  return target.toString();
}

/**
 * Waits until every event committed in this database is visible to gap-safe readers. Readers stop
 * below the oldest writing transaction on the whole server, and other test files write to other
 * databases of it at the same time; a test that needs "everything so far" waits for this first.
 */
export async function waitForAllEventsVisible(q: { query: pg.Pool['query'] }): Promise<void> {
  await waitFor('every committed event to be visible to gap-safe readers', async () => {
    const { rows } = await q.query<{ hidden: number }>(
      'SELECT count(*)::int AS hidden FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())',
    );
    return rows[0]!.hidden === 0;
  });
}
