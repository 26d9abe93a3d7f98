/**
 * An example consumer of the Address Ledger event feed: keeps a table of current addresses in a
 * database of its own. Copy it and change `apply` to build whatever your system needs.
 *
 *   LEDGER_URL=https://ledger.example.org LEDGER_TOKEN=alt_… DATABASE_URL=postgres://… \
 *     npx tsx examples/feed-consumer/consumer.ts
 *
 * Guarantees (see README.md beside this file):
 * - exactly-once effect: each batch of events and the cursor after it are written in one
 *   transaction, so a crash at any point resumes after the last batch that committed;
 * - no gaps: the feed is in a gap-safe global order and the cursor is the SSE id of the last event;
 * - live: follows `/api/events/stream` (Server-Sent Events), reconnecting with `Last-Event-ID`
 *   after a drop, a 429/5xx or `silenceMs` without even a heartbeat; pages `/api/events` only when
 *   the server has no stream at all (404/405/501);
 * - loud: stops, naming the cause, on what a retry cannot fix: a refused token, an unknown event
 *   type, a version gap.
 *
 * Dependencies: `pg` only (fetch and streams are Node's own, Node 20 or later).
 */
import pg from 'pg';

export interface ConsumerOptions {
  /** Base URL of the ledger, e.g. http://localhost:3000 */
  ledgerUrl: string;
  /** An API token of an auditor or admin (the feed is theirs to read). */
  token: string;
  /** The consumer's own database. */
  databaseUrl: string;
  /** Postgres schema of the consumer's tables (default `feed_consumer`). */
  schema?: string;
  /** Reconnect when nothing, not even a heartbeat, arrived for this long (default 30 s). */
  silenceMs?: number;
  /** `stream` (default: SSE, paging if it is unavailable) or `poll` (always page). */
  mode?: 'stream' | 'poll';
  log?: (message: string) => void;
}

/** One event as the feed sends it (the server has already upcast old shapes to current ones). */
export interface FeedEvent {
  cursor: string;
  streamId: string;
  type: string;
  version: number;
  position: string;
  recordedAt: string;
  data: Record<string, unknown>;
}

/** The event types `apply` folds. The feed may send others one day: they stop the consumer. */
type EventType = 'AddressRegistered' | 'AddressChanged' | 'AddressCorrected' | 'AddressArchived' | 'AddressRestored';

/** The longest wait between retries, whatever the backoff or the server's Retry-After says. */
const MAX_WAIT_MS = 30_000;

type Fields = Record<'line1' | 'line2' | 'city' | 'region' | 'postalCode' | 'country' | 'owner', string | null>;
const FIELDS: Record<keyof Fields, string> = {
  line1: 'line1',
  line2: 'line2',
  city: 'city',
  region: 'region',
  postalCode: 'postal_code',
  country: 'country',
  owner: 'owner',
};

export function startConsumer(options: ConsumerOptions) {
  const schema = pg.escapeIdentifier(options.schema ?? 'feed_consumer');
  const silenceMs = options.silenceMs ?? 30_000;
  const log = options.log ?? ((message: string) => console.error(`[feed-consumer] ${message}`));
  const db = new pg.Pool({ connectionString: options.databaseUrl, max: 2 });
  const auth = { authorization: `Bearer ${options.token}` };
  let stopped = false;
  let current: AbortController | null = null;

  async function setUp() {
    await db.query(`
      CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${schema}.addresses (
        address_id text PRIMARY KEY, version integer NOT NULL, status text NOT NULL,
        line1 text NOT NULL, line2 text, city text NOT NULL, region text, postal_code text NOT NULL,
        country text NOT NULL, owner text, archived_reason text, updated_at timestamptz NOT NULL);
      CREATE TABLE IF NOT EXISTS ${schema}.cursor (id boolean PRIMARY KEY DEFAULT true CHECK (id), value text NOT NULL);`);
  }

  async function readCursor(): Promise<string> {
    const { rows } = await db.query<{ value: string }>(`SELECT value FROM ${schema}.cursor`);
    return rows[0]?.value ?? '';
  }

  /** Applies events and moves the cursor past the last of them, all in one transaction. */
  async function applyBatch(events: FeedEvent[]) {
    if (events.length === 0) return;
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      for (const event of events) await apply(client, event);
      await client.query(
        `INSERT INTO ${schema}.cursor (value) VALUES ($1) ON CONFLICT (id) DO UPDATE SET value = excluded.value`,
        [events.at(-1)!.cursor],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * The fold of one event onto the table. Every event type of the feed is handled; an unknown one
   * stops the consumer (skipping it would leave the table silently wrong). An event at or below
   * the stored version was applied already (a replay after a crash) and changes nothing.
   */
  async function apply(client: pg.PoolClient, event: FeedEvent) {
    const id = event.streamId.replace(/^address-/, '');
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${schema}.addresses WHERE address_id = $1 FOR UPDATE`,
      [id],
    );
    const stored = rows[0]?.version ?? 0;
    if (event.version <= stored) return;
    if (event.version !== stored + 1) {
      throw new FatalError(
        `${event.streamId} jumps from version ${stored} to ${event.version} at cursor ${event.cursor}: the feed skipped an event`,
      );
    }
    const d = event.data;
    const type = event.type as EventType; // unchecked: any other string ends in `default`
    switch (type) {
      case 'AddressRegistered': {
        const values = Object.keys(FIELDS).map((f) => (d[f] as string | undefined) ?? null);
        await client.query(
          `INSERT INTO ${schema}.addresses (address_id, version, status, ${Object.values(FIELDS).join(', ')}, updated_at)
           VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10)`,
          [id, event.version, ...values, event.recordedAt],
        );
        return;
      }
      case 'AddressChanged': // data.changes: the new values of changed fields; null clears one
      case 'AddressCorrected': // data.fields: the corrected values, same rules
        return update(client, id, event, (type === 'AddressChanged' ? d.changes : d.fields) as Partial<Fields>, {});
      case 'AddressArchived':
        return update(client, id, event, {}, { status: 'archived', archived_reason: (d.reason as string) ?? null });
      case 'AddressRestored':
        return update(client, id, event, {}, { status: 'active', archived_reason: null });
      default: {
        const unknown: never = type; // a compile error here: a type of EventType has no case above
        throw new FatalError(
          `unknown event type ${unknown} (${event.streamId} version ${event.version}, cursor ${event.cursor}): ` +
            'update the consumer to handle it',
        );
      }
    }
  }

  async function update(
    client: pg.PoolClient,
    id: string,
    event: FeedEvent,
    fields: Partial<Fields>,
    extra: Record<string, string | null>,
  ) {
    const columns: Record<string, string | null> = { ...extra };
    for (const [field, column] of Object.entries(FIELDS)) {
      const value = fields[field as keyof Fields];
      if (value !== undefined) columns[column] = value;
    }
    const names = Object.keys(columns);
    await client.query(
      `UPDATE ${schema}.addresses SET version = $2, updated_at = $3${names.map((n, i) => `, ${n} = $${i + 4}`).join('')}
       WHERE address_id = $1`,
      [id, event.version, event.recordedAt, ...Object.values(columns)],
    );
  }

  /** Follows the SSE stream until it ends, drops or falls silent. False: there is no stream here. */
  async function follow(): Promise<boolean> {
    const abort = new AbortController();
    current = abort;
    let silence = setTimeout(() => abort.abort(), silenceMs);
    try {
      const cursor = await readCursor();
      const response = await fetch(new URL('/api/events/stream', options.ledgerUrl), {
        headers: { ...auth, accept: 'text/event-stream', ...(cursor ? { 'last-event-id': cursor } : {}) },
        signal: abort.signal,
      });
      // Only an answer that there is no such endpoint (an older server, a proxy that refuses SSE)
      // means paging for good; a busy or restarting server (429, 503) is retried by the caller.
      if (response.status === 404 || response.status === 405 || response.status === 501) {
        log(`no event stream here (${await httpError(response)}); paging /api/events`);
        return false;
      }
      await check(response);
      if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
        log(`the event stream answered ${response.headers.get('content-type')}, not SSE; paging /api/events`);
        return false;
      }
      log(`following the event stream from ${cursor || 'the start'}`);
      let buffer = '';
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        clearTimeout(silence);
        silence = setTimeout(() => abort.abort(), silenceMs);
        buffer += chunk;
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop()!; // an unfinished message waits for the next chunk
        // Every complete message of this chunk in one transaction.
        await applyBatch(blocks.map(parseMessage).filter((e): e is FeedEvent => e !== null));
      }
      return true;
    } finally {
      clearTimeout(silence);
      abort.abort(); // closes the connection however we leave, a fatal error included
      current = null;
    }
  }

  /** Pages /api/events from the stored cursor; waits a little whenever it is caught up. */
  async function page(): Promise<void> {
    const url = new URL('/api/events', options.ledgerUrl);
    url.searchParams.set('limit', '500');
    const cursor = await readCursor();
    if (cursor) url.searchParams.set('after', cursor);
    const response = await fetch(url, { headers: auth });
    await check(response);
    const body = (await response.json()) as { events: FeedEvent[] };
    await applyBatch(body.events);
    if (body.events.length === 0) await sleep(2_000);
  }

  const done = (async () => {
    await setUp();
    let streamAvailable = options.mode !== 'poll';
    let backoff = 500;
    while (!stopped) {
      try {
        if (streamAvailable) streamAvailable = await follow();
        else await page();
        backoff = 500;
      } catch (error) {
        if (error instanceof FatalError) throw error;
        if (stopped) break;
        // As long as the server asks (Retry-After), but never less than our own backoff: a server
        // that says "0" while failing must not get a tight loop of reconnects.
        const wait = Math.min(Math.max(backoff, error instanceof RetryLater ? (error.afterMs ?? 0) : 0), MAX_WAIT_MS);
        log(`feed interrupted (${error instanceof Error ? error.message : String(error)}); retrying in ${wait} ms`);
        await sleep(wait);
        backoff = Math.min(backoff * 2, MAX_WAIT_MS);
      }
    }
  })().finally(() => db.end());

  return {
    /** Resolves when stopped; rejects on an error a retry cannot fix (token, unknown type, gap). */
    done,
    async stop() {
      stopped = true;
      current?.abort();
      await done.catch(() => {});
    },
  };
}

/** What a retry cannot fix: the consumer stops with this message instead of reconnecting. */
class FatalError extends Error {}

/** A server busy or restarting (429, 5xx): retried, after `afterMs` if it said (Retry-After). */
class RetryLater extends Error {
  afterMs: number | undefined;
  constructor(message: string, afterMs: number | undefined) {
    super(message);
    this.afterMs = afterMs;
  }
}

/** Throws unless the response is OK: retryable for 408/429/5xx, fatal for any other refusal. */
async function check(response: Response): Promise<void> {
  if (response.ok) return;
  const { status } = response;
  const message = await httpError(response);
  if (status === 401 || status === 403) {
    throw new FatalError(`the ledger refused the token (${message}): use an API token of an auditor or admin`);
  }
  if (status === 408 || status === 429 || status >= 500) {
    throw new RetryLater(message, retryAfterMs(response.headers.get('retry-after')));
  }
  // 400, 404, 422 (a bad cursor)…: the same request would be refused again.
  throw new FatalError(`the ledger refused the request (${message})`);
}

/** Retry-After (seconds, or an HTTP date) in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.max(ms, 0);
}

/** One SSE message as a feed event, or null for comments (heartbeats) and other fields. */
function parseMessage(block: string): FeedEvent | null {
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('data:')) data += line.slice(line.startsWith('data: ') ? 6 : 5);
  }
  return data ? (JSON.parse(data) as FeedEvent) : null;
}

async function httpError(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  return `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Run directly: settings from the environment; Ctrl-C (or SIGTERM) stops after the current batch.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`set ${name} (see examples/feed-consumer/README.md)`);
    return value;
  };
  const consumer = startConsumer({
    ledgerUrl: need('LEDGER_URL'),
    token: need('LEDGER_TOKEN'),
    databaseUrl: need('DATABASE_URL'),
    schema: process.env.CONSUMER_SCHEMA,
    silenceMs: process.env.CONSUMER_SILENCE_MS ? Number(process.env.CONSUMER_SILENCE_MS) : undefined,
    mode: process.env.CONSUMER_MODE === 'poll' ? 'poll' : 'stream',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void consumer.stop());
  consumer.done.then(
    () => process.exit(0),
    (error) => {
      console.error(`[feed-consumer] stopped: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
