import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Prisma } from '@/generated/prisma/client';
import { type Db, withPoolClient } from '@/lib/db';
import type { EventMetadata, RecordedEvent } from '../messages';
import { decodeCursor, encodeCursor } from './cursor';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from './errors';
import type {
  AppendResult,
  BatchAppendItem,
  BatchAppendOutcome,
  CommandRecord,
  EventStore,
  LoadedStream,
  LoadForCommandOptions,
  NewEvent,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  StoredSnapshot,
  Upcaster,
} from './event-store';

// The interface's types, for the callers that imported them from here.
export type * from './event-store';

/** The channel the projector LISTENs on; the payload is the last position of the append. */
export const EVENTS_CHANNEL = 'address_ledger_events';

/** A row of `events` as EVENT_COLUMNS selects it (position: a bigint through Prisma, a string through `pg`). */
export interface EventRow {
  position: bigint | string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
  transaction_id: string;
}

const EVENT_COLUMN_LIST = `position, stream_id, stream_version, event_id::text AS event_id, type, schema_version,
  data, metadata, recorded_at, transaction_id::text AS transaction_id`;
export const EVENT_COLUMNS = Prisma.raw(EVENT_COLUMN_LIST);

const identity: Upcaster = (e) => e;

// One statement, atomic on its own (prisma/migrations/*_append_function and later): lock; one read
// of the stream's head and the command's record; one INSERT of the events with their chained
// hashes that also records the command with its result (20261204020000); throttled NOTIFY.
const APPEND_SQL = `SELECT outcome, version, position, stored_result, stored_hash
  FROM append_events($1, $2::int, $3::jsonb, $4::text, $5::text, $6)`;

// One round trip for what `handle` needs: the command's stored result (a repeat needs nothing
// else), the snapshot, and the first page of events after it (json_agg keeps it one row; a
// longer tail is read on by readStream).
const LOAD_FOR_COMMAND_SQL = `
  WITH s AS (
    SELECT version, state FROM stream_snapshots WHERE stream_id = $1 AND kind = $2 AND shape = $3::int
  )
  SELECT
    (SELECT json_build_object('result', pc.result, 'request_hash', pc.request_hash)
       FROM processed_commands pc WHERE pc.command_id = $4::text) AS command,
    (SELECT json_build_object('version', s.version, 'state', s.state) FROM s) AS snapshot,
    coalesce((
      SELECT json_agg(e ORDER BY e.stream_version) FROM (
        SELECT position::text AS position, stream_id, stream_version, event_id::text AS event_id, type,
               schema_version, data, metadata, recorded_at, transaction_id::text AS transaction_id
        FROM events
        WHERE stream_id = $1 AND stream_version > coalesce((SELECT version FROM s), 0)
        ORDER BY stream_version LIMIT $5::int
      ) e), '[]'::json) AS events`;

/** Events per page when a whole stream is read (a 50,000-event stream is five reads, none capped). */
const STREAM_PAGE = 10_000;

const READ_STREAM_SQL = `SELECT ${EVENT_COLUMN_LIST} FROM events
  WHERE stream_id = $1 AND stream_version BETWEEN $2::int AND $3::int
    AND ($4::timestamptz IS NULL OR recorded_at <= $4::timestamptz)
  ORDER BY events.stream_version
  LIMIT $5::int`;

const READ_ALL_SQL = `SELECT ${EVENT_COLUMN_LIST} FROM events
  WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
    AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    AND ($3::text[] IS NULL OR type = ANY($3::text[]))
  -- Qualified: the bare name would mean the text alias in the select list, which sorts
  -- '1000' before '999' and made the cursor skip events once transaction ids gained a digit.
  ORDER BY events.transaction_id, events.position
  LIMIT $4::int`;

/**
 * A statement the server refused for what it was asked to do, after which its connection is as
 * good as before: integrity (class 23: the duplicate guard, a command id racing itself), a
 * serialization failure or deadlock (40), an error raised by a function (P0), a lock not
 * available (55P03) or a cancelled statement (57014). By SQLSTATE, which does not depend on the
 * server's message language as its severity text does.
 */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError) || typeof error.code !== 'string') return false;
  return ['23', '40', 'P0'].includes(error.code.slice(0, 2)) || error.code === '55P03' || error.code === '57014';
}

/**
 * The Postgres event store: a command's events go in with one call of `append_events` (one
 * statement, one transaction), a batch's with `append_events_batch`; the global order is read
 * gap-safely, below the oldest transaction still in flight.
 */
export function createEventStore(db: Db, options: { upcast?: Upcaster; pool?: pg.Pool } = {}): EventStore {
  const upcast = options.upcast ?? identity;
  const toRecorded = (row: EventRow) => recordedEvent(row, upcast);
  const { pool } = options;
  /**
   * The command path's statements (loadForCommand, append, appendBatch) and the readers of many
   * events (readStream, readAll) as named prepared statements on plain `pg` when a pool is given:
   * Prisma's $queryRaw on the same SQL took about 1.5× as long per read (bench/write-path.ts,
   * "read p50, prisma vs pg"), and 2.4× for a 1,000-event stream (33 ms against 14 ms: the
   * timeline page), as it serialises every row through its query engine and prepares nothing.
   * Everything else stays on Prisma.
   */
  async function hot<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    if (!pool) return db.$queryRawUnsafe<T[]>(text, ...values);
    // Not pool.query: it ends the connection after any error, so every refusal the database
    // raises (a duplicate address) cost a new backend, which logs in (SCRAM) and compiles the
    // append functions again; importing a file already in the register ran at 150 rows/s. The
    // refusals this store expects leave their connection ready for the next statement; anything
    // else retires it (a lost socket, a shutting-down server, or "cached plan must not change
    // result type" after a migration, which would fail on that connection every time).
    return withPoolClient(
      pool,
      async (client) => (await client.query<T & pg.QueryResultRow>({ name, text, values })).rows,
      (error) => !isRefusal(error),
    );
  }

  async function findCommand(commandId: string, requestHash: string): Promise<AppendResult | null> {
    const found = await db.processedCommand.findUnique({ where: { commandId } });
    if (!found) return null;
    if (found.requestHash !== requestHash) throw new IdempotencyKeyReusedError(commandId);
    return { ...(found.result as Omit<AppendResult, 'replayed'>), replayed: true };
  }

  async function streamVersion(streamId: string): Promise<number> {
    const rows = await db.$queryRaw<
      { v: number }[]
    >`SELECT version AS v FROM stream_heads WHERE stream_id = ${streamId}`;
    return rows[0]?.v ?? 0;
  }

  async function readPage(streamId: string, from: number, to: number, at: Date | null, limit: number) {
    const rows = await hot<EventRow>('read-stream', READ_STREAM_SQL, [streamId, from, to, at, limit]);
    return rows.map(toRecorded);
  }

  async function readStream(streamId: string, opts: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = opts.fromVersion ?? 1;
    const to = opts.toVersion ?? 2_147_483_647;
    const at = opts.recordedAtOrBefore ?? null;
    if (opts.limit !== undefined) return readPage(streamId, from, to, at, opts.limit);
    // Every event, page by page: a single capped read once made a stream past 10,000 events
    // look stale to `handle`, which then failed every command on it with a version conflict.
    const events: RecordedEvent[] = [];
    for (let next = from; next <= to; ) {
      const page = await readPage(streamId, next, to, at, STREAM_PAGE);
      for (const e of page) events.push(e);
      if (page.length < STREAM_PAGE) break;
      next = page.at(-1)!.streamVersion + 1;
    }
    return events;
  }

  return {
    findCommand,

    streamVersion,

    /**
     * Appends all events of one command atomically, if the stream is still at `expectedVersion`.
     * With a `command`, the result is stored under its id in the same transaction, and a repeat
     * returns that result without appending (also when the first command appended nothing).
     */
    async append(
      streamId: string,
      events: NewEvent[],
      opts: { expectedVersion: number; command?: CommandRecord },
    ): Promise<AppendResult> {
      const { expectedVersion, command } = opts;
      const payload = events.map((e) => ({
        eventId: randomUUID(),
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: e.data,
        metadata: stripRecordedAt(e.metadata),
      }));
      let rows: AppendRow[];
      try {
        rows = await hot<AppendRow>('append-events', APPEND_SQL, [
          streamId,
          expectedVersion,
          JSON.stringify(payload),
          command?.commandId ?? null,
          command?.requestHash ?? null,
          EVENTS_CHANNEL,
        ]);
      } catch (error) {
        const duplicateOf = duplicateAddressOf(error);
        if (duplicateOf !== null) throw new DuplicateAddressError(streamId, duplicateOf);
        if (command && isUniqueViolation(error, 'processed_commands_pkey')) {
          // The same command committed by another transaction while this one ran (racing
          // retries of one Idempotency-Key; append_events waited for it and wrote nothing): its
          // result is the answer, as for any repeat.
          const previous = await findCommand(command.commandId, command.requestHash);
          if (previous) return previous;
        }
        if (isUniqueViolation(error, 'events_stream_id_stream_version_key')) {
          // Backstop for writers that bypass the function (e.g. a hand-written script).
          throw new VersionConflictError(streamId, expectedVersion, await streamVersion(streamId));
        }
        throw error;
      }
      const row = rows[0]!;
      switch (row.outcome) {
        case 'appended':
        case 'unchanged':
          return { streamId, version: row.version!, position: row.position, replayed: false };
        case 'already_processed':
          if (row.stored_hash !== command?.requestHash) throw new IdempotencyKeyReusedError(command!.commandId);
          return { ...(row.stored_result as Omit<AppendResult, 'replayed'>), replayed: true };
        case 'conflict': {
          // The same command may have won the race on this stream: then answer with its result.
          const previous = command ? await findCommand(command.commandId, command.requestHash) : null;
          if (previous) return previous;
          throw new VersionConflictError(streamId, expectedVersion, row.version!);
        }
        default:
          throw new Error(`append_events returned an unknown outcome: ${row.outcome}`);
      }
    },

    /**
     * Many commands' appends in one round trip (bulk imports), each with every guarantee of
     * `append`: expected version, idempotency record, stored result; one transaction for all.
     * Per item: its result, or the conflict / reused-key error `append` would have thrown. An
     * exception (e.g. a trigger refusing one row) means nothing of the batch was written.
     */
    async appendBatch(items: readonly BatchAppendItem[]): Promise<BatchAppendOutcome[]> {
      if (items.length === 0) return [];
      const payload = items.map((item) => ({
        streamId: item.streamId,
        expectedVersion: item.expectedVersion,
        commandId: item.command?.commandId ?? null,
        requestHash: item.command?.requestHash ?? null,
        events: item.events.map((e) => ({
          eventId: randomUUID(),
          type: e.type,
          schemaVersion: e.schemaVersion,
          data: e.data,
          metadata: stripRecordedAt(e.metadata),
        })),
      }));
      // On the hot path too: the import sends a megabyte of JSON per batch, which Prisma's query
      // engine copied and re-serialised (a third of the importing process's CPU).
      const rows = await hot<AppendRow & { ord: number }>(
        'append_events_batch',
        `SELECT ord, outcome, version, position, stored_result, stored_hash
         FROM append_events_batch($1::jsonb, $2)`,
        [JSON.stringify(payload), EVENTS_CHANNEL],
      );
      return rows.map((row): BatchAppendOutcome => {
        const item = items[row.ord - 1]!;
        const { streamId, command } = item;
        switch (row.outcome) {
          case 'appended':
          case 'unchanged':
            return { ok: true, result: { streamId, version: row.version!, position: row.position, replayed: false } };
          case 'already_processed':
            if (row.stored_hash !== command?.requestHash) {
              return { ok: false, error: new IdempotencyKeyReusedError(command!.commandId) };
            }
            return { ok: true, result: { ...(row.stored_result as Omit<AppendResult, 'replayed'>), replayed: true } };
          case 'conflict':
            return { ok: false, error: new VersionConflictError(streamId, item.expectedVersion, row.version!) };
          default:
            throw new Error(`append_events_batch returned an unknown outcome: ${row.outcome}`);
        }
      });
    },

    readStream,

    async loadForCommand(streamId: string, opts: LoadForCommandOptions): Promise<LoadedStream> {
      const kind = opts.snapshot?.kind ?? null;
      const shape = opts.snapshot?.shape ?? null;
      const commandId = opts.command?.commandId ?? null;
      const rows = await hot<{
        command: StoredCommandRow | null;
        snapshot: SnapshotRow | null;
        events: JsonEventRow[];
      }>('load-for-command', LOAD_FOR_COMMAND_SQL, [streamId, kind, shape, commandId, STREAM_PAGE]);
      const row = rows[0]!;
      if (row.command) {
        if (row.command.request_hash !== opts.command!.requestHash) {
          throw new IdempotencyKeyReusedError(opts.command!.commandId);
        }
        return {
          previous: { ...(row.command.result as Omit<AppendResult, 'replayed'>), replayed: true },
          snapshot: null,
          events: [],
        };
      }
      const events: RecordedEvent[] = row.events.map((e) =>
        toRecorded({ ...e, position: BigInt(e.position), recorded_at: new Date(e.recorded_at) }),
      );
      if (events.length === STREAM_PAGE) {
        const rest = await readStream(streamId, { fromVersion: events.at(-1)!.streamVersion + 1 });
        for (const e of rest) events.push(e);
      }
      const snapshot = row.snapshot && {
        kind: kind!,
        shape: shape!,
        version: row.snapshot.version,
        state: row.snapshot.state,
      };
      return { previous: null, snapshot, events };
    },

    async saveSnapshot(streamId: string, snapshot: StoredSnapshot): Promise<void> {
      // A snapshot never moves back: two writers racing keep the newer one.
      await db.$executeRaw`
        INSERT INTO stream_snapshots AS s (stream_id, kind, shape, version, state)
        VALUES (${streamId}, ${snapshot.kind}, ${snapshot.shape}::int, ${snapshot.version}::int, ${JSON.stringify(snapshot.state)}::jsonb)
        ON CONFLICT (stream_id, kind, shape) DO UPDATE
          SET version = excluded.version, state = excluded.state, taken_at = now()
          WHERE excluded.version > s.version`;
    },

    /**
     * The global order, gap-safe: only events of transactions older than the oldest one still in
     * flight are returned, ordered by (transaction id, position). A transaction that appended
     * first but commits last is therefore never skipped: until it commits, nothing after it is
     * returned either.
     */
    async readAll(opts: ReadAllOptions = {}): Promise<ReadAllResult> {
      const after = typeof opts.after === 'object' && opts.after !== null ? opts.after : decodeCursor(opts.after);
      const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
      const types = opts.types && opts.types.length > 0 ? opts.types : null;
      const rows = await hot<EventRow>('read-all', READ_ALL_SQL, [after.transactionId, after.position, types, limit]);
      const events = rows.map(toRecorded);
      const last = events.at(-1);
      const next = last ? { transactionId: last.transactionId, position: last.position } : after;
      return {
        events: events.map(({ transactionId, ...e }) => ({
          ...e,
          cursor: encodeCursor({ transactionId, position: e.position }),
        })),
        next: encodeCursor(next),
      };
    },

    /** Highest position appended so far (visible or not yet safe to read), for lag reporting. */
    async headPosition(): Promise<string> {
      const rows = await db.$queryRaw<{ p: bigint | null }[]>`SELECT max(position) AS p FROM events`;
      return (rows[0]?.p ?? 0n).toString();
    },
  };
}

/** A stored row as the event it is, read through the upcaster (for readers outside this store too). */
export function recordedEvent(row: EventRow, upcast: Upcaster = identity): RecordedEvent & { transactionId: string } {
  const current = upcast({ type: row.type, schemaVersion: row.schema_version, data: row.data });
  const recordedAt = row.recorded_at.toISOString();
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    position: row.position.toString(),
    type: current.type,
    schemaVersion: current.schemaVersion,
    data: current.data,
    metadata: { ...row.metadata, recordedAt },
    recordedAt,
    transactionId: row.transaction_id,
  };
}

interface StoredCommandRow {
  result: unknown;
  request_hash: string;
}

interface SnapshotRow {
  version: number;
  state: unknown;
}

/** An EventRow as json_agg delivers it: bigint and timestamp as text. */
type JsonEventRow = Omit<EventRow, 'position' | 'recorded_at'> & { position: string; recorded_at: string };

interface AppendRow {
  outcome: 'appended' | 'unchanged' | 'conflict' | 'already_processed';
  version: number | null;
  position: string | null;
  stored_result: unknown;
  stored_hash: string | null;
}

function stripRecordedAt(metadata: EventMetadata): EventMetadata {
  // recordedAt is the database's, never the caller's.
  const { recordedAt: _, ...rest } = metadata;
  return rest;
}

/**
 * The stream named by the `address_keys` trigger when it refuses an append as a duplicate
 * ('duplicate_address <stream id>', SQLSTATE 23505), or null for any other error.
 */
function duplicateAddressOf(error: unknown): string | null {
  if (!isUniqueViolation(error, 'duplicate_address')) return null;
  return /duplicate_address ([\w:.-]+)/.exec(errorText(error))?.[1] ?? null;
}

function errorText(error: unknown): string {
  const e = error as { message?: string; meta?: { driverAdapterError?: { cause?: { originalMessage?: string } } } };
  return `${e?.message ?? ''} ${e?.meta?.driverAdapterError?.cause?.originalMessage ?? ''}`;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const text = errorText(error);
  const code =
    (error as { code?: string })?.code ??
    (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } })?.meta?.driverAdapterError
      ?.cause?.originalCode;
  return (code === '23505' || code === 'P2002' || text.includes('23505')) && text.includes(constraint);
}
