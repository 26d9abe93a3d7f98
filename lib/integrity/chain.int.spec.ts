import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '@/domain/event-store/postgres-event-store';
import { migrate } from '@/lib/migrate';
import { createTestDatabase, migrateBefore, type TestDatabase } from '@/test/db';
import { eventHash } from './chain';
import { CHAINED_EVENT_COLUMNS, type ChainedEventRow, toChained, verifyLedger } from './verify';

/*
 * The SQL side (event_hash() in the tamper-evidence migration) and the JS side (chain.ts) must
 * compute the same bytes, on every path an event takes into the table: append_events, a plain
 * INSERT (the chaining trigger), and events that existed before the migration.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

/** Recomputes every event's hash of `streamId` in JS and returns [stored, computed] per event. */
async function rehash(pool: pg.Pool, streamId: string) {
  const { rows } = await pool.query<ChainedEventRow>(
    `SELECT ${CHAINED_EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`,
    [streamId],
  );
  let prev: Buffer | null = null;
  return rows.map((row) => {
    const e = toChained(row);
    const computed = eventHash(prev, e);
    prev = e.hash;
    return { stored: e.hash.toString('hex'), computed: computed.toString('hex') };
  });
}

// Values whose text form is easy to get wrong: key order (jsonb sorts by length, then bytes),
// escapes, characters of 2, 3 and 4 UTF-8 bytes, numbers whose spelling jsonb keeps.
const awkward = {
  zz: 'quote " backslash \\ newline \n tab \t bell \u0007 slash /',
  a: 'Ünïcödé — 東京 — 😀',
  bbb: [1.0, 1.5e2, -0, 1e21, 0.1, null, true, false],
  b: { y: { c: 1, aa: 2 }, x: [] },
  'a longer key': '',
  é: 'key of two bytes',
};

describe('event hashes: SQL and JS agree', () => {
  it('for events appended through append_events, several in one command', async () => {
    const store = createEventStore(db.prisma);
    const streamId = `chain-${randomUUID()}`;
    await store.append(
      streamId,
      [
        {
          type: 'T',
          schemaVersion: 1,
          data: awkward,
          metadata: { actor: { id: 'a', name: 'Ä', role: 'operator' } },
        } as never,
        { type: 'U', schemaVersion: 2, data: { n: 1 }, metadata: {} } as never,
        { type: 'V', schemaVersion: 1, data: [], metadata: { reason: '😀' } } as never,
      ],
      { expectedVersion: 0 },
    );
    await store.append(streamId, [{ type: 'W', schemaVersion: 1, data: awkward, metadata: {} } as never], {
      expectedVersion: 3,
    });
    const hashes = await rehash(db.pool, streamId);
    expect(hashes).toHaveLength(4);
    for (const h of hashes) expect(h.computed).toBe(h.stored);
  });

  it('for events inserted without a hash (the trigger chains them)', async () => {
    const streamId = `chain-${randomUUID()}`;
    for (const version of [1, 2]) {
      // A raw INSERT (the owner's right; the app appends through append_events only).
      await db.ownerPool.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
         VALUES ($1, $2, gen_random_uuid(), 'T', 1, $3, '{}')`,
        [streamId, version, JSON.stringify(awkward)],
      );
    }
    const hashes = await rehash(db.pool, streamId);
    expect(hashes).toHaveLength(2);
    for (const h of hashes) expect(h.computed).toBe(h.stored);
  });
});

describe('the migration', () => {
  it('chains the events written before it, so they verify', async () => {
    const old = await createTestDatabase({ empty: true });
    try {
      await migrateBefore(old.ownerUrl, '20261201040000');
      // Written by the append function as it was before the chain existed.
      const streamId = `old-${randomUUID()}`;
      for (const [version, data] of [awkward, { n: 2 }, { n: 3 }].entries()) {
        await old.pool.query('SELECT * FROM append_events($1, $2, $3, NULL, NULL, $4)', [
          streamId,
          version,
          JSON.stringify([{ eventId: randomUUID(), type: 'T', schemaVersion: 1, data, metadata: { v: version } }]),
          'test_channel',
        ]);
      }
      await migrate(old.ownerUrl);
      const hashes = await rehash(old.pool, streamId);
      expect(hashes).toHaveLength(3);
      for (const h of hashes) expect(h.computed).toBe(h.stored);
      const report = await verifyLedger(old.pool, { trusted: null });
      expect(report.problems).toEqual([]);
      expect(report.summary).toMatchObject({ events: 3, streams: 1, seals: 0, unsealedEvents: 3 });
    } finally {
      await old.drop();
    }
  });
});
