import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { migrate } from '@/lib/migrate';
import { createTestDatabase, type TestDatabase } from '@/test/db';

const MIGRATIONS = path.resolve('prisma/migrations');
const DROPPING = '20261205020000_drop_history_snapshots';

let db: TestDatabase | undefined;
let before: string | undefined;
afterAll(async () => {
  await db?.drop();
  if (before) await rm(before, { recursive: true, force: true });
});

it('drops the snapshots of the old revert state and keeps every other kind', async () => {
  db = await createTestDatabase({ empty: true });
  // The database as it stood before the migration: every migration up to the one before it.
  before = await mkdtemp(path.join(os.tmpdir(), 'migrations-before-'));
  for (const name of (await readdir(MIGRATIONS)).filter((n) => /^\d{14}_/.test(n) && n < DROPPING)) {
    await cp(path.join(MIGRATIONS, name), path.join(before, name), { recursive: true });
  }
  await migrate(db.ownerUrl, before);
  await db.ownerPool.query(
    `INSERT INTO stream_snapshots (stream_id, kind, shape, version, state)
     VALUES ('address-1', 'address-history', 2, 500, '{}'), ('address-1', 'address', 2, 500, '{}'),
            ('address-2', 'address-lookback', 1, 500, '{}')`,
  );
  const { applied } = await migrate(db.ownerUrl);
  expect(applied).toContain(DROPPING);
  const { rows } = await db.ownerPool.query('SELECT stream_id, kind FROM stream_snapshots ORDER BY 1, 2');
  expect(rows).toEqual([
    { stream_id: 'address-1', kind: 'address' },
    { stream_id: 'address-2', kind: 'address-lookback' },
  ]);
});
