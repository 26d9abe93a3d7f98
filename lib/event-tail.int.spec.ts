import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore, NewEvent, ReadAllResult } from '@/domain/event-store/event-store';
import { EVENTS_CHANNEL } from '@/domain/event-store/postgres-event-store';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import { followEvents, KEPT } from './event-tail';
import { createLedger, type Ledger } from './ledger';
import { logger } from './logger';

/*
 * The shared tail of the feed behind /api/events/stream: every follower in a process is served
 * by one reader, in the gap-safe order, however many there are.
 */
let db: TestDatabase;
let ledger: Ledger;
beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

const actor = { id: 'tail-test', name: 'Tail test', role: 'system' as const };
async function append(n: number, stream = `tail-${randomUUID()}`) {
  for (let i = 0; i < n; i++) {
    await ledger.store.append(
      stream,
      [
        {
          type: 'AddressChanged',
          schemaVersion: 1,
          data: { i },
          metadata: { actor, commandId: randomUUID(), correlationId: 'c', source: 'api' },
        },
      ],
      { expectedVersion: i },
    );
  }
  return stream;
}

/** `n` events on one new stream, appended in transactions of at most 5,000 (a long one holds back the feed). */
async function appendMany(n: number) {
  const stream = `tail-${randomUUID()}`;
  for (let version = 0; version < n; version += 5_000) {
    const events: NewEvent[] = Array.from({ length: Math.min(5_000, n - version) }, (_, i) => ({
      type: 'AddressChanged',
      schemaVersion: 1,
      data: { i: version + i },
      metadata: { actor, commandId: randomUUID(), correlationId: 'c', source: 'api' },
    }));
    const [outcome] = await ledger.store.appendBatch([{ streamId: stream, expectedVersion: version, events }]);
    expect(outcome?.ok).toBe(true);
  }
  return stream;
}

/** Every event of the feed after `cursor`, in order. */
async function feedAfter(cursor: string) {
  const events: ReadAllResult['events'] = [];
  for (;;) {
    const page = await ledger.store.readAll({ after: cursor, limit: 5_000 });
    events.push(...page.events);
    if (page.events.length < 5_000) return events;
    cursor = page.next;
  }
}

/** The cursor after the newest event. */
async function head() {
  return (await feedAfter('')).at(-1)?.cursor ?? '';
}

/** The store, counting its feed reads. */
function counted(store: EventStore) {
  const reads = { n: 0 };
  const readAll: EventStore['readAll'] = (opts) => {
    reads.n++;
    return store.readAll(opts);
  };
  return { reads, store: { ...store, readAll } };
}

/**
 * A follower as the route runs one (tail.follow), its own database reads counted on top of
 * `store`'s: memory when the tail has it, else the database.
 */
function follower(store: EventStore, tail: ReturnType<typeof followEvents>, from: string) {
  const received: ReadAllResult['events'] = [];
  const stop = new AbortController();
  const own = counted(store);
  const done = (async () => {
    for await (const page of tail.follow(own.store, from, stop.signal, () => 1_000)) received.push(...page.events);
  })();
  return {
    received,
    fromDatabase: () => own.reads.n,
    async close() {
      stop.abort();
      await done;
      tail.release();
    },
  };
}

describe('followEvents: one reader for every follower of a process', () => {
  it('delivers every new event to 50 followers, in feed order, with reads that do not grow with the followers', async () => {
    await append(3);
    const { store, reads } = counted(ledger.store);
    const head = (await ledger.store.readAll({ limit: 10_000 })).next;
    const followers = Array.from({ length: 50 }, () =>
      follower(store, followEvents(store, db.url, EVENTS_CHANNEL, logger), head),
    );
    try {
      // Every follower has caught up (one database read each), and the tail has started.
      await waitFor('the followers to catch up', async () => followers.every((f) => f.fromDatabase() >= 1));
      const before = reads.n;
      const stream = await append(20);
      await waitFor('all 20 events at every follower', async () =>
        followers.every((f) => f.received.filter((e) => e.streamId === stream).length === 20),
      );
      for (const f of followers) {
        const mine = f.received.filter((e) => e.streamId === stream).map((e) => e.streamVersion);
        expect(mine).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        expect(new Set(f.received.map((e) => e.eventId)).size).toBe(f.received.length);
      }
      // The shared reader's pages only: per follower it would be at least 50 × the pages.
      expect(reads.n - before).toBeLessThan(50);
      expect(followers.every((f) => f.fromDatabase() === 1)).toBe(true);
    } finally {
      await Promise.all(followers.map((f) => f.close()));
    }
  });

  it('lets a new follower replay history from the database, then join the others without a gap or a repeat', async () => {
    const { store } = counted(ledger.store);
    const early = follower(
      store,
      followEvents(store, db.url, EVENTS_CHANNEL, logger),
      (await ledger.store.readAll({ limit: 10_000 })).next,
    );
    try {
      await waitFor('the first follower to catch up', async () => early.fromDatabase() >= 1);
      await append(5);
      const late = follower(store, followEvents(store, db.url, EVENTS_CHANNEL, logger), '');
      try {
        const more = await append(4);
        await waitFor('the late follower to have history and the new events', async () =>
          late.received.some((e) => e.streamId === more && e.streamVersion === 4),
        );
        const all = (await ledger.store.readAll({ limit: 10_000 })).events.map((e) => e.eventId);
        expect(late.received.map((e) => e.eventId)).toEqual(all);
      } finally {
        await late.close();
      }
    } finally {
      await early.close();
    }
  });

  it('lets a follower stop asking and resume where it stopped: with what came meanwhile at once, from the database once more than the tail keeps came', async () => {
    const { store } = counted(ledger.store);
    const from = await head();
    // A follower that keeps reading keeps the shared tail running and shows what it holds.
    const steady = follower(store, followEvents(store, db.url, EVENTS_CHANNEL, logger), from);
    // One that asks for a page only when the test does, as the route does for a slow client.
    const tail = followEvents(store, db.url, EVENTS_CHANNEL, logger);
    const own = counted(store);
    const stop = new AbortController();
    const pages = tail.follow(own.store, from, stop.signal, () => 600_000);
    const received: ReadAllResult['events'] = [];
    let asking = false;
    const ask = async () => {
      asking = true;
      const next = await pages.next();
      if (!next.done) received.push(...next.value.events);
      asking = false;
    };
    try {
      await waitFor('the steady follower to catch up', async () => steady.fromDatabase() >= 1);
      await ask();
      expect(received).toEqual([]);

      // Events that came while it was not asking are in memory: its next ask gets them, rather
      // than waiting (here 600 s) for a wake that came and went.
      const burst = await append(5);
      await waitFor(
        'the burst in the tail',
        async () => steady.received.filter((e) => e.streamId === burst).length === 5,
      );
      void ask();
      await waitFor('the burst, without waiting for another wake', async () => !asking);
      expect(received.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);

      // More than the tail keeps went by while it was not asking: it reads them from the
      // database, from its cursor, and then has every event once, in feed order.
      const flood = await appendMany(KEPT + 500);
      await waitFor(
        'the flood in the tail',
        async () => steady.received.filter((e) => e.streamId === flood).length === KEPT + 500,
        { timeoutMs: 60_000 },
      );
      const readsBefore = own.reads.n;
      while (!received.some((e) => e.streamId === flood && e.streamVersion === KEPT + 500)) await ask();
      expect(own.reads.n).toBeGreaterThan(readsBefore);
      expect(received.map((e) => e.eventId)).toEqual((await feedAfter(from)).map((e) => e.eventId));
    } finally {
      stop.abort();
      await pages.return(undefined);
      tail.release();
      await steady.close();
    }
  });
});
