import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NewEvent, ReadAllResult } from '@/domain/event-store/event-store';
import { ledger } from '@/lib/ledger';
import { call, credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import * as archiveRoute from './addresses/[id]/archive/route';
import * as addressesRoute from './addresses/route';
import * as streamRoute from './events/stream/route';

/**
 * How many events each stream has taken from the shared tail (lib/event-tail.ts), in the order
 * the streams opened: what the route holds for a client is what it took less what the client read.
 */
const taken = vi.hoisted(() => [] as { events: number }[]);
vi.mock('@/lib/event-tail', async (importOriginal) => {
  const real = await importOriginal<typeof import('@/lib/event-tail')>();
  return {
    ...real,
    followEvents(...args: Parameters<typeof real.followEvents>) {
      const tail = real.followEvents(...args);
      return {
        release: tail.release,
        follow(...follow: Parameters<typeof tail.follow>) {
          const count = { events: 0 };
          taken.push(count);
          return (async function* () {
            for await (const page of tail.follow(...follow)) {
              count.events += page.events.length;
              yield page;
            }
          })();
        },
      };
    },
  };
});

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  process.env.DATABASE_URL = db.url;
  await provisionCallers(db.prisma);
});
afterAll(async () => db?.drop());

const fields = { line1: '2 Turner Street', city: 'Auburn', region: 'ME', postalCode: '04210', country: 'US' };

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

/**
 * Opens the stream in-process and collects parsed messages (and heartbeats) until told to stop;
 * `paused` opens it without reading, until resume(). `mostHeld` is the most events the route had
 * taken for this stream and not yet delivered, seen at any read.
 */
async function open(headers: Record<string, string> = {}, query = '', { paused = false } = {}) {
  const abort = new AbortController();
  const response = await streamRoute.GET(
    new Request(`http://localhost/api/events/stream${query}`, {
      headers: { ...credentials('auditor'), ...headers },
      signal: abort.signal,
    }),
    { params: Promise.resolve({}) },
  );
  const held = response.status === 200 ? taken.at(-1)! : { events: 0 };
  const messages: SseMessage[] = [];
  const state = { heartbeats: 0, mostHeld: 0 };
  const gate = { shut: null as Promise<void> | null, open: () => {} };
  const pause = () => {
    gate.shut = new Promise<void>((resolve) => {
      gate.open = resolve;
    });
  };
  const resume = () => {
    gate.open();
    gate.shut = null;
  };
  if (paused) pause();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = (async () => {
    for (;;) {
      if (gate.shut) await gate.shut;
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: SseMessage = {};
        for (const line of block.split('\n')) {
          const [key, ...rest] = line.split(': ');
          if (key === 'id' || key === 'event' || key === 'data') message[key] = rest.join(': ');
        }
        if (message.data) messages.push(message);
        if (block === ': keep-alive') state.heartbeats++;
        end = buffer.indexOf('\n\n');
      }
      state.mostHeld = Math.max(state.mostHeld, held.events - messages.length);
    }
  })();
  return {
    response,
    messages,
    state,
    /** Events the route has taken for this stream and not delivered yet. */
    held: () => held.events - messages.length,
    pause,
    resume,
    async close() {
      abort.abort();
      resume();
      await reader.cancel().catch(() => {});
      await pump;
    },
  };
}

/**
 * What a stream may hold for a client that does not read (app/api/events/stream/route.ts): the
 * page it took while its queue had room (500 events), plus what fills the queue's 64 KiB (about
 * 150 of these events). An unbounded stream holds the whole feed: thousands here.
 */
const HELD_AT_MOST = 1_000;

const actor = { id: 'stream-test', name: 'Stream test', role: 'system' as const };

type Client = Awaited<ReturnType<typeof open>>;

/**
 * While `quick` reads all of `feed`, the paused `slow` holds at most HELD_AT_MOST events; once it
 * reads, it gets every event of `feed` in order, staying within the bound.
 */
async function expectBoundedThenInOrder(slow: Client, quick: Client, feed: { cursor: string }[]) {
  const last = feed.at(-1)!.cursor;
  await waitFor('the whole feed at the reading client', async () => quick.messages.at(-1)?.id === last);
  expect(slow.held()).toBeLessThanOrEqual(HELD_AT_MOST);
  slow.resume();
  await waitFor('the whole feed at the slow client', async () => slow.messages.at(-1)?.id === last);
  expect(slow.messages.map((m) => m.id)).toEqual(feed.map((e) => e.cursor));
  expect(slow.state.mostHeld).toBeLessThanOrEqual(HELD_AT_MOST);
}

/** `n` events on one new stream, appended in transactions of at most 1,000. */
async function appendMany(n: number) {
  const streamId = `stream-test-${randomUUID()}`;
  for (let version = 0; version < n; version += 1_000) {
    const events: NewEvent[] = Array.from({ length: Math.min(1_000, n - version) }, (_, i) => ({
      type: 'AddressChanged',
      schemaVersion: 1,
      data: { i: version + i },
      metadata: { actor, commandId: randomUUID(), correlationId: 'c', source: 'api' },
    }));
    const [outcome] = await ledger().store.appendBatch([{ streamId, expectedVersion: version, events }]);
    expect(outcome?.ok).toBe(true);
  }
}

/** Every event of the feed after `cursor`, in order. */
async function feedAfter(cursor: string) {
  const events: ReadAllResult['events'] = [];
  for (;;) {
    const page = await ledger().store.readAll({ after: cursor, limit: 5_000 });
    events.push(...page.events);
    if (page.events.length < 5_000) return events;
    cursor = page.next;
  }
}

async function register(line1: string) {
  const res = await call(addressesRoute.POST, { path: '/api/addresses', body: { ...fields, line1 } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('GET /api/events/stream', () => {
  it('sends past events, then new ones as they are appended, each with its cursor as id', async () => {
    const first = await register('2 Turner Street');
    const stream = await open();
    try {
      expect(stream.response.headers.get('content-type')).toMatch(/text\/event-stream/);
      await waitFor('the existing event', async () =>
        stream.messages.some((m) => JSON.parse(m.data!).data.addressId === first),
      );
      const second = await register('4 Turner Street');
      await waitFor('the new event', async () =>
        stream.messages.some((m) => JSON.parse(m.data!).data.addressId === second),
      );
      const last = stream.messages.at(-1)!;
      expect(last.event).toBe('AddressRegistered');
      expect(last.id).toBe(JSON.parse(last.data!).cursor);
    } finally {
      await stream.close();
    }
  });

  it('resumes after Last-Event-ID without repeating what the client already has', async () => {
    const seen = await register('6 Turner Street');
    const firstConnection = await open();
    let resumeFrom = '';
    try {
      // Up to the newest event (not merely the first delivered): otherwise the resumed stream
      // rightly sends the older ones the client had not received yet.
      await waitFor('the newest event', async () =>
        firstConnection.messages.some((m) => JSON.parse(m.data!).data.addressId === seen),
      );
      resumeFrom = firstConnection.messages.at(-1)!.id!;
    } finally {
      await firstConnection.close();
    }
    const later = await register('8 Turner Street');
    const resumed = await open({ 'last-event-id': resumeFrom });
    try {
      await waitFor('the event appended while disconnected', async () =>
        resumed.messages.some((m) => JSON.parse(m.data!).data.addressId === later),
      );
      expect(resumed.messages.map((m) => m.id)).not.toContain(resumeFrom);
      expect(resumed.messages).toHaveLength(1);
    } finally {
      await resumed.close();
    }
  });

  it('sends only the types asked for, also once it follows the shared tail', async () => {
    const stream = await open({}, '?types=AddressArchived');
    try {
      const id = await register('12 Turner Street');
      const archived = await call(addressesRoute.POST, {
        path: '/api/addresses',
        body: { ...fields, line1: '14 Turner Street' },
      });
      const archive = await call(archiveRoute.POST, {
        path: `/api/addresses/${archived.body.id}/archive`,
        params: { id: archived.body.id },
        body: { reason: 'demolished', expectedVersion: 1 },
      });
      expect(archive.status).toBe(200);
      await waitFor('the archive', async () =>
        stream.messages.some((m) => JSON.parse(m.data!).data.addressId === archived.body.id),
      );
      expect(stream.messages.map((m) => m.event)).toEqual(stream.messages.map(() => 'AddressArchived'));
      expect(stream.messages.some((m) => JSON.parse(m.data!).data.addressId === id)).toBe(false);
    } finally {
      await stream.close();
    }
  });

  it('refuses operators (the global feed is for auditors and admins) and bad cursors', async () => {
    const asOperator = await call(streamRoute.GET, { path: '/api/events/stream', as: 'operator' });
    expect(asOperator.status).toBe(403);
    const bad = await call(streamRoute.GET, { path: '/api/events/stream?after=nonsense', as: 'auditor' });
    expect(bad.status).toBe(422);
  });

  it('refuses a Last-Event-ID past the range of positions before opening the stream', async () => {
    for (const id of ['1-9223372036854775808', '18446744073709551616-1']) {
      const res = await call(streamRoute.GET, {
        path: '/api/events/stream',
        as: 'auditor',
        headers: { 'last-event-id': id },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('replays a long feed to a client only as fast as it reads, and then sends it every event in order', async () => {
    await appendMany(3_000);
    const slow = await open({}, '', { paused: true });
    const quick = await open();
    try {
      // The client that reads gets the whole feed meanwhile; the one that does not was given a page.
      await expectBoundedThenInOrder(slow, quick, await feedAfter(''));
    } finally {
      await slow.close();
      await quick.close();
    }
  });

  it('stops taking live events for a client that stopped reading, and catches it up from its cursor once it reads', async () => {
    const head = (await feedAfter('')).at(-1)!.cursor;
    const slow = await open({}, `?after=${head}`);
    const quick = await open({}, `?after=${head}`);
    try {
      // Both follow the shared tail.
      const joined = await register('20 Turner Street');
      await waitFor('the new event at both clients', async () =>
        [slow, quick].every((s) => s.messages.some((m) => JSON.parse(m.data!).data.addressId === joined)),
      );
      slow.pause();
      await appendMany(3_000);
      await expectBoundedThenInOrder(slow, quick, await feedAfter(head));
    } finally {
      await slow.close();
      await quick.close();
    }
  });

  it('sends heartbeats on an idle stream, also one filtered to types that do not come', async () => {
    process.env.SSE_HEARTBEAT_MS = '50';
    const head = (await feedAfter('')).at(-1)!.cursor;
    const streams = [await open({}, `?after=${head}`), await open({}, `?after=${head}&types=AddressArchived`)];
    try {
      await register('22 Turner Street');
      await waitFor('heartbeats on both streams', async () => streams.every((s) => s.state.heartbeats >= 3));
    } finally {
      for (const s of streams) await s.close();
      delete process.env.SSE_HEARTBEAT_MS;
    }
  });

  it('caps the live streams one caller may hold open, and frees a slot when a stream closes', async () => {
    process.env.SSE_MAX_STREAMS_PER_CALLER = '3';
    const streams = [];
    try {
      for (let i = 0; i < 3; i++) streams.push(await open());
      for (const s of streams) expect(s.response.status).toBe(200);
      const refused = await call(streamRoute.GET, { path: '/api/events/stream', as: 'auditor' });
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { limit: 3 } });
      // Another caller has slots of its own.
      const other = await open(credentials('admin'));
      expect(other.response.status).toBe(200);
      await other.close();
      await streams.pop()!.close();
      const again = await open();
      expect(again.response.status).toBe(200);
      streams.push(again);
    } finally {
      for (const s of streams) await s.close();
      delete process.env.SSE_MAX_STREAMS_PER_CALLER;
    }
  });
});
