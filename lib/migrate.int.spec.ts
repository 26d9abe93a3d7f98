import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { migrate } from './migrate';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

describe('migrate', () => {
  it('applies every migration once when several processes start at the same moment', async () => {
    db = await createTestDatabase({ empty: true });
    const results = await Promise.all([migrate(db.ownerUrl), migrate(db.ownerUrl), migrate(db.ownerUrl)]);
    const applied = results.flatMap((r) => r.applied);
    const { rows } = await db.pool.query('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name');
    expect(applied.sort()).toEqual(rows.map((r) => r.migration_name));
    expect(new Set(applied).size).toBe(applied.length);
    const events = await db.pool.query("SELECT to_regclass('public.events') AS t");
    expect(events.rows[0].t).toBe('events');
  });

  it('is a no-op on an up-to-date database', async () => {
    db = await createTestDatabase({ empty: true });
    const first = await migrate(db.ownerUrl);
    const second = await migrate(db.ownerUrl);
    expect(first.applied.length).toBeGreaterThan(0);
    expect(second).toEqual({ applied: [], alreadyApplied: first.applied.length });
  });

  it('rolls back a failing migration whole and refuses an edited one', async () => {
    db = await createTestDatabase({ empty: true });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
    await mkdir(path.join(dir, '001_ok'));
    await writeFile(path.join(dir, '001_ok', 'migration.sql'), 'CREATE TABLE a (id int);');
    await mkdir(path.join(dir, '002_broken'));
    await writeFile(
      path.join(dir, '002_broken', 'migration.sql'),
      'CREATE TABLE b (id int); SELECT no_such_function();',
    );
    await expect(migrate(db.ownerUrl, dir)).rejects.toThrow(/no_such_function/);
    const b = await db.pool.query("SELECT to_regclass('public.b') AS t");
    expect(b.rows[0].t).toBeNull();

    await writeFile(path.join(dir, '001_ok', 'migration.sql'), 'CREATE TABLE a (id bigint);');
    await expect(migrate(db.ownerUrl, dir)).rejects.toThrow(/changed after it was applied/);
  });
});

describe('migrate with the runtime role (README "Security")', () => {
  it('confirms an up-to-date database without needing any right to change it', async () => {
    db = await createTestDatabase();
    const result = await migrate(db.url);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toBeGreaterThan(0);
  });

  it('refuses to apply a pending migration and names the setting that fixes it', async () => {
    db = await createTestDatabase();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
    await mkdir(path.join(dir, '999_pending'));
    await writeFile(path.join(dir, '999_pending', 'migration.sql'), 'CREATE TABLE pending (id int);');
    await expect(migrate(db.url, dir)).rejects.toThrow(/needs the owner role.*MIGRATION_DATABASE_URL/);
    const table = await db.ownerPool.query("SELECT to_regclass('public.pending') AS t");
    expect(table.rows[0].t).toBeNull();
  });
});
