import { afterAll, expect, it } from 'vitest';
import { migrate } from '@/lib/migrate';
import { createTestDatabase, migrateBefore, type TestDatabase } from '@/test/db';

const DROPPING = '20261205020000_drop_history_snapshots';

let db: TestDatabase | undefined;
afterAll(async () => db?.drop());

it('drops the snapshots of the old revert state and keeps every other kind', async () => {
  db = await createTestDatabase({ empty: true });
  // The database as it stood before the migration: every migration up to the one before it.
  await migrateBefore(db.ownerUrl, DROPPING.slice(0, 14));
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
