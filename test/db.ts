import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { OWNER_ROLE } from '@/lib/database-roles';
import { createPrisma, type Db } from '@/lib/db';
import { MIGRATIONS_DIR, type MigrationResult, migrate } from '@/lib/migrate';
import { waitFor } from './wait';

/**
 * `url`, `prisma` and `pool` are the runtime role, as the app runs (README "Security"): a test
 * that passes with them proves the app's code works with the runtime role's grants. The owner and
 * the superuser are there for tests that deliberately need them (fixtures the app may not write,
 * such as a raw event row; tampering), and must say why.
 */
export interface TestDatabase {
  /** The runtime role. */
  url: string;
  prisma: Db;
  /** A raw pool for tests that need several real connections (e.g. interleaved transactions). */
  pool: pg.Pool;
  /** The owner role: owns every object, runs migrations. */
  ownerUrl: string;
  ownerPool: pg.Pool;
  /** The cluster's superuser on this database. */
  superuserUrl: string;
  drop(): Promise<void>;
}

const onDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

/**
 * A fresh, migrated database for one test file, cloned from the template that global-setup
 * migrated: files never see each other's events, and cloning is far faster than migrating.
 * It belongs to the owner role, like the embedded database of `npm start`.
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
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template} OWNER ${OWNER_ROLE}`);
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  } finally {
    await admin.end();
  }
  const url = onDatabase(inject('pgRuntimeUrl'), name);
  const ownerUrl = onDatabase(inject('pgOwnerUrl'), name);
  const prisma = createPrisma(url, { max: 30 });
  const pool = new pg.Pool({ connectionString: url, max: 30 });
  const ownerPool = new pg.Pool({ connectionString: ownerUrl, max: 5 });
  return {
    url,
    prisma,
    pool,
    ownerUrl,
    ownerPool,
    superuserUrl: onDatabase(adminUrl, name),
    async drop() {
      await prisma.$disconnect();
      await pool.end();
      await ownerPool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Appends one event with an empty body through append_events, the runtime role's only way into
 * `events`, on whatever connection is given (inside its transaction, if one is open). Resolves to
 * the event's position.
 */
export async function appendOneRaw(q: Pick<pg.ClientBase, 'query'>, streamId: string, type: string): Promise<string> {
  const { rows } = await q.query<{ outcome: string; position: string }>(
    `SELECT outcome, position FROM append_events($1, 0,
       jsonb_build_array(jsonb_build_object('eventId', gen_random_uuid(), 'type', $2::text, 'schemaVersion', 1,
                                            'data', '{}'::jsonb, 'metadata', '{}'::jsonb)),
       NULL, NULL, 'address_ledger_test')`,
    [streamId, type],
  );
  if (rows[0]?.outcome !== 'appended') throw new Error(`append_events answered ${JSON.stringify(rows[0])}`);
  return rows[0].position;
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
  await waitFor(
    'every committed event to be visible to gap-safe readers',
    async () => {
      const { rows } = await q.query<{ hidden: number }>(
        'SELECT count(*)::int AS hidden FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())',
      );
      return rows[0]!.hidden === 0;
      // A bound, not a speed goal: another file's bulk insert may hold the server's xmin for a while.
    },
    { timeoutMs: 60_000 },
  );
}

/**
 * Applies every migration older than `first` (a migration's 14-digit prefix) to the database at
 * `url`, as it stood before that release: for tests of what a migration does to older data.
 */
export async function migrateBefore(url: string, first: string): Promise<MigrationResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-before-'));
  try {
    for (const name of (await readdir(MIGRATIONS_DIR)).filter((n) => /^\d{14}_/.test(n) && n < first)) {
      await cp(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
    }
    return await migrate(url, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
