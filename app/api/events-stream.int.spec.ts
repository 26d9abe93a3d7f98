import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import * as archiveRoute from './addresses/[id]/archive/route';
import * as addressesRoute from './addresses/route';
import * as streamRoute from './events/stream/route';

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

/** Opens the stream in-process and collects parsed messages until told to stop. */
async function open(headers: Record<string, string> = {}, query = '') {
  const abort = new AbortController();
  const response = await streamRoute.GET(
    new Request(`http://localhost/api/events/stream${query}`, {
      headers: { ...credentials('auditor'), ...headers },
      signal: abort.signal,
    }),
    { params: Promise.resolve({}) },
  );
  const messages: SseMessage[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const pump = (async () => {
    for (;;) {
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
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  return {
    response,
    messages,
    async close() {
      abort.abort();
      await reader.cancel().catch(() => {});
      await pump;
    },
  };
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
