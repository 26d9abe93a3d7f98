import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendOneRaw, burnTransactionIdsToNextPowerOfTen, createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import type { EventMetadata } from '../messages';
import { decodeCursor } from './cursor';
import { IdempotencyKeyReusedError, VersionConflictError } from './errors';
import { createEventStore, type EventStore, type NewEvent } from './postgres-event-store';

let db: TestDatabase;
let store: EventStore;

beforeAll(async () => {
  db = await createTestDatabase();
  store = createEventStore(db.prisma);
});
afterAll(async () => db?.drop());

const metadata: EventMetadata = {
  actor: { id: 'u-1', name: 'Test Operator', role: 'operator' },
  commandId: 'c-1',
  correlationId: 'c-1',
  source: 'api',
};

function event(type: string, data: Record<string, unknown> = {}): NewEvent {
  return { type, data, metadata, schemaVersion: 1 };
}

const newStream = () => `test-${randomUUID()}`;

// The global order stops below the oldest writing transaction on the whole server, and other test
// files write to other databases of it at the same time: tests poll for what they expect.

/** The cursor after every event committed in this database so far. */
async function caughtUpCursor(): Promise<string> {
  const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM events');
  let next = '';
  let seen = 0;
  await waitFor('the feed to catch up with every committed event', async () => {
    const page = await store.readAll({ after: next, limit: 10_000 });
    seen += page.events.length;
    next = page.next;
    return seen >= rows[0].n;
  });
  return next;
}

describe('append', () => {
  it('appends all events of one command with consecutive versions, database time and a transaction id', async () => {
    const streamId = newStream();
    const result = await store.append(streamId, [event('A'), event('B'), event('C')], { expectedVersion: 0 });
    expect(result.version).toBe(3);
    const events = await store.readStream(streamId);
    expect(events.map((e) => [e.type, e.streamVersion])).toEqual([
      ['A', 1],
      ['B', 2],
      ['C', 3],
    ]);
    expect(events[2]!.position).toBe(result.position);
    expect(new Date(events[0]!.recordedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(events[0]!.metadata.actor).toEqual(metadata.actor);
    const tx = await db.pool.query('SELECT DISTINCT transaction_id::text FROM events WHERE stream_id = $1', [streamId]);
    expect(tx.rowCount).toBe(1);
  });

  it('refuses an append at a stale expected version with the expected and actual versions', async () => {
    const streamId = newStream();
    await store.append(streamId, [event('A')], { expectedVersion: 0 });
    const error = await store.append(streamId, [event('B')], { expectedVersion: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
    expect(await store.streamVersion(streamId)).toBe(1);
  });

  it('refuses an expected version ahead of the stream, writing nothing (no gap)', async () => {
    const stream = newStream();
    // Only the store's own check catches this: the unique (stream, version) constraint would let
    // version 6 in, leaving versions 1 to 5 missing.
    const error = await store.append(stream, [event('Ahead')], { expectedVersion: 5 }).catch((e) => e);
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 5, actualVersion: 0 });
    const rows = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [stream]);
    expect(rows.rows[0].n).toBe(0);

    await store.append(stream, [event('First'), event('Second')], { expectedVersion: 0 });
    const ahead = await store.append(stream, [event('Ahead')], { expectedVersion: 3 }).catch((e) => e);
    expect(ahead).toMatchObject({ expectedVersion: 3, actualVersion: 2 });
    const third = await store.append(stream, [event('Third')], { expectedVersion: 2 });
    expect(third.version).toBe(3);
    const versions = await db.pool.query<{ v: number }>(
      'SELECT stream_version AS v FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [stream],
    );
    expect(versions.rows.map((r) => r.v)).toEqual([1, 2, 3]);
  });

  it('lets exactly one of 20 concurrent appends at the same version win, leaving no gap or duplicate', async () => {
    const streamId = newStream();
    await store.append(streamId, [event('Registered')], { expectedVersion: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.append(streamId, [event('Changed', { i })], { expectedVersion: 1 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof VersionConflictError);
    expect(ok).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    const versions = (await store.readStream(streamId)).map((e) => e.streamVersion);
    expect(versions).toEqual([1, 2]);
  });

  it('returns the first result for a repeated command and appends nothing', async () => {
    const streamId = newStream();
    const command = { commandId: randomUUID(), requestHash: 'h1' };
    const first = await store.append(streamId, [event('A')], { expectedVersion: 0, command });
    const again = await store.append(streamId, [event('A')], { expectedVersion: 0, command });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await store.streamVersion(streamId)).toBe(1);
  });

  it('refuses a repeated command id that carries a different request', async () => {
    const streamId = newStream();
    const commandId = randomUUID();
    await store.append(streamId, [event('A')], { expectedVersion: 0, command: { commandId, requestHash: 'h1' } });
    await expect(
      store.append(streamId, [event('B')], { expectedVersion: 1, command: { commandId, requestHash: 'h2' } }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(await store.streamVersion(streamId)).toBe(1);
  });

  it('appends once when the same command races itself', async () => {
    const streamId = newStream();
    const command = { commandId: randomUUID(), requestHash: 'same' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => store.append(streamId, [event('A')], { expectedVersion: 0, command })),
    );
    expect(new Set(results.map((r) => r.position)).size).toBe(1);
    expect(await store.streamVersion(streamId)).toBe(1);
  });
});

describe('one command id racing itself on different streams', () => {
  // A registration mints its stream id per request, so retries of one Idempotency-Key race on
  // different streams: the stream lock does not order them, the command record's unique key does
  // (append_events, migration 20261204020000). Through Prisma and through the prepared statement.
  it.each([
    ['Prisma', () => createEventStore(db.prisma)],
    ['plain pg', () => createEventStore(db.prisma, { pool: db.pool })],
  ])('appends once and answers every copy with that result (%s)', async (_, makeStore) => {
    const racing = makeStore();
    const command = { commandId: randomUUID(), requestHash: 'same' };
    const streams = Array.from({ length: 6 }, newStream);
    const results = await Promise.all(
      streams.map((s) => racing.append(s, [event('A')], { expectedVersion: 0, command })),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const first = results.find((r) => !r.replayed)!;
    for (const r of results) {
      expect({ streamId: r.streamId, position: r.position }).toEqual({
        streamId: first.streamId,
        position: first.position,
      });
    }
    const written = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1)',
      [streams],
    );
    expect(written.rows[0]!.n).toBe(1);
  });
});

describe('immutability', () => {
  // Two locks on the same door: the runtime role (the app's) has no UPDATE/DELETE/TRUNCATE right
  // on events at all; the owner has them, and the triggers refuse it. lib/database-roles.int.spec.ts
  // shows the runtime role cannot take either lock off.
  it.each([
    ['UPDATE', "UPDATE events SET type = 'Tampered'"],
    ['DELETE', 'DELETE FROM events'],
    ['TRUNCATE', 'TRUNCATE events'],
  ])('refuses %s on events, by privilege for the app and by trigger for the owner', async (_, sql) => {
    await store.append(newStream(), [event('A')], { expectedVersion: 0 });
    const before = await db.pool.query('SELECT count(*)::int AS n FROM events');
    await expect(db.pool.query(sql)).rejects.toThrow(/permission denied for table events/);
    await expect(db.ownerPool.query(sql)).rejects.toThrow(/events are immutable/);
    const after = await db.pool.query('SELECT count(*)::int AS n FROM events');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const tampered = await db.pool.query("SELECT count(*)::int AS n FROM events WHERE type = 'Tampered'");
    expect(tampered.rows[0].n).toBe(0);
  });
});

describe('reading the global order', () => {
  it('pages through every event once, in order, with a resumable cursor', async () => {
    const streams = [newStream(), newStream(), newStream()];
    for (const s of streams) await store.append(s, [event('A'), event('B')], { expectedVersion: 0 });
    const all = await db.pool.query('SELECT event_id::text AS id FROM events ORDER BY transaction_id, position');
    const seen: string[] = [];
    let after: string | undefined;
    await waitFor('every event to come through the feed', async () => {
      const page = await store.readAll({ after, limit: 2 });
      seen.push(...page.events.map((e) => e.eventId));
      after = page.next;
      return seen.length >= all.rows.length;
    });
    expect(seen).toEqual(all.rows.map((r) => r.id));
  });

  it('filters by event type', async () => {
    const s = newStream();
    await store.append(s, [event('OnlyThis'), event('NotThis')], { expectedVersion: 0 });
    const page = await waitFor('the OnlyThis event', async () => {
      const p = await store.readAll({ types: ['OnlyThis'], limit: 1000 });
      return p.events.length > 0 && p;
    });
    expect(page.events.every((e) => e.type === 'OnlyThis')).toBe(true);
  });

  it('never skips a transaction that appended first but committed last', async () => {
    const cursor = await caughtUpCursor();

    // Two real connections: the slow one takes its position first and commits last.
    const slow = await db.pool.connect();
    const fast = await db.pool.connect();
    try {
      const slowStream = newStream();
      const fastStream = newStream();
      await slow.query('BEGIN');
      const slowPosition = await appendOneRaw(slow, slowStream, 'Slow');
      await fast.query('BEGIN');
      const fastPosition = await appendOneRaw(fast, fastStream, 'Fast');
      await fast.query('COMMIT');
      expect(BigInt(slowPosition)).toBeLessThan(BigInt(fastPosition));

      // The later commit is visible in the table, but the reader must not move past the slow one.
      const visible = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [fastStream]);
      expect(visible.rows[0].n).toBe(1);
      const whileInFlight = await store.readAll({ after: cursor, limit: 100 });
      expect(whileInFlight.events.map((e) => e.type)).toEqual([]);
      expect(whileInFlight.next).toBe(cursor);

      await slow.query('COMMIT');
      let afterCommit = await store.readAll({ after: whileInFlight.next, limit: 100 });
      await waitFor('both events after the slow commit', async () => {
        afterCommit = await store.readAll({ after: whileInFlight.next, limit: 100 });
        return afterCommit.events.length >= 2;
      });
      expect(afterCommit.events.map((e) => e.type)).toEqual(['Slow', 'Fast']);
      expect(decodeCursor(afterCommit.next).position).toBe(fastPosition);
    } finally {
      await slow.query('ROLLBACK').catch(() => {});
      slow.release();
      fast.release();
    }
  });

  it('never skips a transaction whose id is older than its position, one event per page', async () => {
    const cursor = await caughtUpCursor();
    // "early" takes its transaction id first but its position last; "late" the other way round.
    // Ordered by position alone, a one-event page would return "late" first and its cursor
    // (late's transaction id, late's position) would then lie past "early" for ever.
    const early = await db.pool.connect();
    const late = await db.pool.connect();
    const appendIn = (client: typeof early, type: string) =>
      client.query(`SELECT outcome FROM append_events($1, 0, $2::jsonb, NULL, NULL, 'test_unused')`, [
        newStream(),
        JSON.stringify([{ eventId: randomUUID(), type, schemaVersion: 1, data: {}, metadata }]),
      ]);
    try {
      await early.query('BEGIN');
      await early.query('SELECT pg_current_xact_id()');
      await late.query('BEGIN');
      await appendIn(late, 'Late');
      await late.query('COMMIT');
      await appendIn(early, 'Early');
      await early.query('COMMIT');
      const rows = await db.pool.query<{ type: string; position: string; tx: string }>(
        `SELECT type, position::text, transaction_id::text AS tx FROM events WHERE type IN ('Early', 'Late')`,
      );
      const byType = Object.fromEntries(rows.rows.map((r) => [r.type, r]));
      expect(BigInt(byType.Early!.tx)).toBeLessThan(BigInt(byType.Late!.tx));
      expect(BigInt(byType.Early!.position)).toBeGreaterThan(BigInt(byType.Late!.position));

      const seen: string[] = [];
      let next = cursor;
      await waitFor('both events, one page at a time', async () => {
        const page = await store.readAll({ after: next, limit: 1 });
        seen.push(...page.events.map((e) => e.type));
        next = page.next;
        return seen.length >= 2;
      });
      expect(seen).toEqual(['Early', 'Late']);
    } finally {
      await early.query('ROLLBACK').catch(() => {});
      early.release();
      late.release();
    }
  });

  it('keeps numeric order when transaction ids gain a digit between two appends', async () => {
    const cursor = await caughtUpCursor();
    const before = newStream();
    await store.append(before, [event('BeforeBoundary')], { expectedVersion: 0 });
    await burnTransactionIdsToNextPowerOfTen(db.pool);
    const after = newStream();
    await store.append(after, [event('AfterBoundary')], { expectedVersion: 0 });
    const tx = await db.pool.query(
      'SELECT stream_id, transaction_id::text AS tx FROM events WHERE stream_id = ANY($1) ORDER BY position',
      [[before, after]],
    );
    expect(tx.rows[1].tx.length).toBeGreaterThan(tx.rows[0].tx.length);

    // One event per page: the first page must be the earlier transaction, or the cursor would
    // jump past it and never come back.
    const seen: string[] = [];
    let next = cursor;
    await waitFor('both events, one page at a time', async () => {
      const page = await store.readAll({ after: next, limit: 1 });
      seen.push(...page.events.map((e) => e.type));
      next = page.next;
      return seen.includes('AfterBoundary');
    });
    expect(seen.filter((t) => t.endsWith('Boundary'))).toEqual(['BeforeBoundary', 'AfterBoundary']);
  });

  it('rejects a cursor it did not issue', async () => {
    await expect(store.readAll({ after: 'not-a-cursor' })).rejects.toThrow(/cursor/);
  });
});

describe('notifications', () => {
  it('notifies listeners with the last position once the append commits', async () => {
    const listener = await db.pool.connect();
    try {
      await listener.query('LISTEN address_ledger_events');
      const received = new Promise<string>((resolve) => {
        listener.on('notification', (n) => resolve(n.payload ?? ''));
      });
      const result = await store.append(newStream(), [event('A'), event('B')], { expectedVersion: 0 });
      expect(await received).toBe(result.position);
    } finally {
      listener.release();
    }
  });
});
