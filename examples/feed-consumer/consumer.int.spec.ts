import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as eventsRoute from '@/app/api/events/route';
import * as streamRoute from '@/app/api/events/stream/route';
import { isDomainError } from '@/domain/address';
import { DuplicateAddressError } from '@/domain/event-store/errors';
import { createLedger, type Ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { commands, waitForProjection } from '@/projections/testing';
import { type Projector, startProjector } from '@/projections/worker';
import { credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { waitFor } from '@/test/wait';
import { startConsumer } from './consumer';

let db: TestDatabase;
let ledger: Ledger;
let projector: Projector;
let token: string;
beforeAll(async () => {
  db = await createTestDatabase();
  process.env.DATABASE_URL = db.url; // the route handlers' database
  // The consumer's own tables stand for another team's database: made with the owner's rights here
  // (the app's role may create nothing).
  await provisionCallers(db.prisma);
  token = credentials('auditor').authorization!.replace('Bearer ', '');
  ledger = createLedger(db.prisma);
  projector = await startProjector({ databaseUrl: db.url, projections: ['address_view'], log: logger, pollMs: 200 });
});
afterAll(async () => {
  await projector?.stop();
  await db?.drop();
});

/**
 * The feed routes over real HTTP, in-process: the consumer talks to them exactly as to a deployed
 * server. `restart` drops every open connection and listens again on the same port.
 */
async function serveFeed(port = 0) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler =
      url.pathname === '/api/events/stream' ? streamRoute.GET : url.pathname === '/api/events' ? eventsRoute.GET : null;
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(key, value);
    const response = await handler(new Request(url, { headers, signal: abort.signal }), {
      params: Promise.resolve({}),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) Readable.fromWeb(response.body as never).pipe(res);
    else res.end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    port: actualPort,
  };
}

/** Registrations, changes, corrections, archives and restores from several writers at once. */
async function randomWorkload(writers: number, commandsPerWriter: number, seed: number) {
  const c = commands(ledger);
  const ids: string[] = [];
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const streets = ['Main Street', 'Ocean Avenue', 'Chestnut Street', 'Pleasant Street'];
  let done = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = 0; i < commandsPerWriter; i++) {
        const r = random();
        const id = ids[Math.floor(random() * ids.length)];
        try {
          if (r < 0.3 || !id) ids.push(await c.register({ line1: `${i} ${streets[i % 4]}`, owner: `w${i}` }));
          else if (r < 0.55)
            await c.change(id, { line1: `${Math.floor(random() * 999)} ${streets[i % 4]}`, owner: null });
          else if (r < 0.7) await c.correct(id, 1, { line2: random() < 0.5 ? `Unit ${i}` : null });
          else if (r < 0.85) await c.archive(id);
          else await c.restore(id);
        } catch (error) {
          // A change to an archived address, or one that would make it a copy of another, is refused
          // by the rules: part of a realistic workload.
          if (!isDomainError(error) && !(error instanceof DuplicateAddressError)) throw error;
        }
        done++;
      }
    }),
  );
  return done;
}

const countIn = async (table: string) =>
  (
    await db.ownerPool
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)
      .catch(() => ({ rows: [{ n: 0 }] }))
  ).rows[0]!.n;

const COLUMNS = 'address_id, version, status, line1, line2, city, region, postal_code, country, owner, archived_reason';
async function expectConsumerToEqualAddressView(schema: string) {
  await waitForAllEventsVisible(db.pool);
  await waitForProjection(db.pool, 'address_view', { timeoutMs: 60_000 });
  const view = async () => (await db.pool.query(`SELECT ${COLUMNS} FROM address_view ORDER BY address_id`)).rows;
  const mine = async () =>
    (await db.ownerPool.query(`SELECT ${COLUMNS} FROM ${schema}.addresses ORDER BY address_id`)).rows;
  const expected = await view();
  await waitFor(
    `the consumer (${schema}) to hold the ${expected.length} rows of address_view`,
    async () => JSON.stringify(await mine()) === JSON.stringify(expected),
    { timeoutMs: 60_000 },
  );
  expect(await mine()).toEqual(expected); // row for row, every column
  expect(expected.length).toBeGreaterThan(100);
  expect(expected.some((r) => r.status === 'archived')).toBe(true);
}

describe('examples/feed-consumer', () => {
  it('follows the stream through a random workload and a server restart: its table equals address_view', async () => {
    let feed = await serveFeed();
    const consumer = startConsumer({
      ledgerUrl: feed.url,
      token,
      databaseUrl: db.ownerUrl,
      schema: 'consumer_a',
      log: () => {},
    });
    // Half the workload, then the server goes away (dropping the stream) and comes back on the
    // same address while the other half is written.
    expect(await randomWorkload(4, 125, 7)).toBe(500);
    await waitFor('some events to be consumed', async () => (await countIn('consumer_a.addresses')) >= 50);
    await feed.close();
    const second = randomWorkload(4, 125, 8);
    feed = await serveFeed(feed.port);
    expect(await second).toBe(500);
    await expectConsumerToEqualAddressView('consumer_a');
    await consumer.stop();
    await feed.close();
  }, 120_000);

  it('killed half way (SIGKILL) and restarted, paging this time: its table still equals address_view', async () => {
    const feed = await serveFeed();
    const spawnConsumer = (mode: 'stream' | 'poll'): ChildProcess =>
      spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'consumer.ts')], {
        env: {
          ...process.env,
          LEDGER_URL: feed.url,
          LEDGER_TOKEN: token,
          DATABASE_URL: db.ownerUrl,
          CONSUMER_SCHEMA: 'consumer_b',
          CONSUMER_MODE: mode,
        },
        stdio: 'ignore',
      });
    let child = spawnConsumer('stream');
    // Half the workload, killed once it has consumed some, the other half while it is down.
    expect(await randomWorkload(4, 125, 11)).toBe(500);
    await waitFor('the consumer to be part-way', async () => (await countIn('consumer_b.addresses')) >= 50);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const second = randomWorkload(4, 125, 12);
    child = spawnConsumer('poll');
    expect(await second).toBe(500);
    await expectConsumerToEqualAddressView('consumer_b');
    child.kill('SIGTERM');
    await feed.close();
  }, 120_000);

  it('reconnects with Last-Event-ID when the stream falls silent, without applying anything twice', async () => {
    // A server that sends one event and then nothing at all, not even a heartbeat.
    const feed = await fakeLedger((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(registered('silent-1', '42-7')));
    });
    const consumer = startConsumer({ ...options(feed, 'consumer_c'), silenceMs: 300 });
    try {
      await waitFor('a reconnect after the silence', async () => feed.requests.length >= 3);
      expect(feed.requests.slice(0, 3).map((r) => r.lastEventId)).toEqual([undefined, '42-7', '42-7']);
      const { rows } = await db.ownerPool.query('SELECT address_id, version, line1 FROM consumer_c.addresses');
      expect(rows).toEqual([{ address_id: 'silent-1', version: 1, line1: '1 Quiet Lane' }]);
    } finally {
      await consumer.stop();
      feed.close();
    }
  });

  it.each([
    {
      what: 'an event type it does not know',
      event: { ...registered('merged-1', '50-1'), type: 'AddressMerged' },
      schema: 'consumer_d',
      message:
        'unknown event type AddressMerged (address-merged-1 version 1, cursor 50-1): update the consumer to handle it',
    },
    {
      what: 'a version gap',
      event: registered('gap-1', '51-1', 2),
      schema: 'consumer_e',
      message: 'address-gap-1 jumps from version 0 to 2 at cursor 51-1: the feed skipped an event',
    },
  ])('stops on $what, naming the event, instead of reconnecting', async ({ event, schema, message }) => {
    const feed = await fakeLedger((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(event));
    });
    const consumer = startConsumer(options(feed, schema));
    try {
      expect((await stoppedWith(consumer)).message).toBe(message);
      expect(feed.requests).toHaveLength(1);
      // Nothing of the batch committed, the cursor included: once fixed, it resumes at this event.
      expect(await countIn(`${schema}.addresses`)).toBe(0);
      expect(await countIn(`${schema}.cursor`)).toBe(0);
    } finally {
      await consumer.stop();
      feed.close();
    }
  });

  it('retries the stream through a 429 and a 503, waiting as Retry-After asks, and keeps following it', async () => {
    const feed = await fakeLedger((_req, res, n) => {
      if (n === 0) res.writeHead(429, { 'retry-after': '1' }).end('too many streams');
      else if (n === 1) res.writeHead(503).end('restarting');
      else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse(registered('busy-1', '60-1')));
      }
    });
    const logs: string[] = [];
    const consumer = startConsumer({ ...options(feed, 'consumer_f'), log: (m) => logs.push(m) });
    try {
      await waitFor('the event after the retries', async () => (await countIn('consumer_f.addresses')) === 1);
      expect(feed.requests.map((r) => r.path)).toEqual([
        '/api/events/stream',
        '/api/events/stream',
        '/api/events/stream',
      ]);
      // The 429's Retry-After (1 s) beats the first backoff (0.5 s); the 503 gets the doubled backoff.
      expect(logs.filter((m) => m.includes('retrying'))).toEqual([
        'feed interrupted (HTTP 429: too many streams); retrying in 1000 ms',
        'feed interrupted (HTTP 503: restarting); retrying in 1000 ms',
      ]);
    } finally {
      await consumer.stop();
      feed.close();
    }
  });

  it('stops at once, saying why, when the token is refused (401)', async () => {
    const feed = await fakeLedger((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthenticated"}');
    });
    const consumer = startConsumer(options(feed, 'consumer_g'));
    try {
      expect((await stoppedWith(consumer)).message).toBe(
        'the ledger refused the token (HTTP 401: {"error":"unauthenticated"}): use an API token of an auditor or admin',
      );
      expect(feed.requests).toHaveLength(1);
    } finally {
      await consumer.stop();
      feed.close();
    }
  });

  it('pages /api/events when the server has no stream at all (404)', async () => {
    const feed = await fakeLedger((req, res) => {
      if (req.url?.startsWith('/api/events/stream')) {
        res.writeHead(404).end();
        return;
      }
      const events = req.url?.includes('after=') ? [] : [registered('paged-1', '70-1')];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events }));
    });
    const consumer = startConsumer(options(feed, 'consumer_h'));
    try {
      await waitFor('the paged event', async () => (await countIn('consumer_h.addresses')) === 1);
      expect(feed.requests[0]!.path).toBe('/api/events/stream');
      expect(new Set(feed.requests.slice(1).map((r) => r.path))).toEqual(new Set(['/api/events']));
    } finally {
      await consumer.stop();
      feed.close();
    }
  });
});

/**
 * A stand-in for the ledger that answers request number `n` (from 0) as told: the consumer's
 * input, exactly as a server or a proxy in front of it might send it.
 */
async function fakeLedger(respond: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  const requests: { path: string; lastEventId: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ path: pathname, lastEventId: req.headers['last-event-id'] as string | undefined });
    respond(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

const options = (feed: { url: string }, schema: string) => ({
  ledgerUrl: feed.url,
  token: 'unused',
  databaseUrl: db.ownerUrl,
  schema,
  log: () => {},
});

const registered = (addressId: string, cursor: string, version = 1) => ({
  cursor,
  streamId: `address-${addressId}`,
  type: 'AddressRegistered',
  version,
  position: cursor.split('-')[1]!,
  recordedAt: '2026-01-01T00:00:00.000Z',
  data: { addressId, line1: '1 Quiet Lane', city: 'Bangor', postalCode: '04401', country: 'US' },
});

const sse = (event: { cursor: string; type: string }) =>
  `id: ${event.cursor}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

/** The error the consumer stopped with; fails within a bound if it keeps retrying instead. */
async function stoppedWith(consumer: { done: Promise<void> }): Promise<Error> {
  let outcome: Error | undefined;
  consumer.done.then(
    () => {
      outcome = new Error('stopped without an error');
    },
    (error: Error) => {
      outcome = error;
    },
  );
  return waitFor('the consumer to stop with an error', async () => outcome, { timeoutMs: 15_000 });
}
