import { randomUUID } from 'node:crypto';
import { Prisma } from '@/generated/prisma/client';
import type { Db } from '@/lib/db';
import type { Event, EventMetadata, RecordedEvent } from '../messages';
import { decodeCursor, encodeCursor, type GlobalCursor } from './cursor';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from './errors';

/** The channel the projector LISTENs on; the payload is the last position of the append. */
export const EVENTS_CHANNEL = 'address_ledger_events';

export interface NewEvent extends Event {
  schemaVersion: number;
}

/** Identifies the command behind an append so a repeat returns the first result. */
export interface CommandRecord {
  commandId: string;
  /** Hash of the request body: the same id with another body is refused, not replayed. */
  requestHash: string;
}

export interface AppendResult {
  streamId: string;
  /** The stream's version after the append (unchanged when there was nothing to append). */
  version: number;
  /** Global position of the last appended event, or null when nothing was appended. */
  position: string | null;
  /** True when this is the stored result of an earlier identical command. */
  replayed: boolean;
}

export interface StoredEventShape {
  type: string;
  schemaVersion: number;
  data: unknown;
}

/** Reads old event shapes as the current ones (see domain/address/upcasters.ts). */
export type Upcaster = (event: StoredEventShape) => StoredEventShape;

export interface ReadStreamOptions {
  fromVersion?: number;
  toVersion?: number;
  /** Only events recorded at or before this instant (for "what did it look like at …"). */
  recordedAtOrBefore?: Date;
  limit?: number;
}

export interface ReadAllOptions {
  after?: string | GlobalCursor | null;
  limit?: number;
  types?: string[];
}

/** An event of the global order with the cursor that resumes right after it. */
export type FeedEvent = RecordedEvent & { cursor: string };

export interface ReadAllResult {
  events: FeedEvent[];
  /** Cursor of the last event returned; pass it as `after` for the next page. */
  next: string;
}

/** A row of `events` as EVENT_COLUMNS selects it. */
export interface EventRow {
  position: bigint;
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

export const EVENT_COLUMNS = Prisma.sql`position, stream_id, stream_version, event_id::text AS event_id, type, schema_version,
  data, metadata, recorded_at, transaction_id::text AS transaction_id`;

const identity: Upcaster = (e) => e;

export type EventStore = ReturnType<typeof createEventStore>;

/**
 * The Postgres event store (DESIGN §4). Appends go through Prisma in one transaction per command;
 * the global order is read gap-safely, below the oldest transaction still in flight.
 */
export function createEventStore(db: Db, options: { upcast?: Upcaster } = {}) {
  const upcast = options.upcast ?? identity;
  const toRecorded = (row: EventRow) => recordedEvent(row, upcast);

  async function findCommand(commandId: string, requestHash: string): Promise<AppendResult | null> {
    const found = await db.processedCommand.findUnique({ where: { commandId } });
    if (!found) return null;
    if (found.requestHash !== requestHash) throw new IdempotencyKeyReusedError(commandId);
    return { ...(found.result as Omit<AppendResult, 'replayed'>), replayed: true };
  }

  async function streamVersion(streamId: string): Promise<number> {
    const rows = await db.$queryRaw<{ v: number | null }[]>`
      SELECT max(stream_version) AS v FROM events WHERE stream_id = ${streamId}`;
    return rows[0]?.v ?? 0;
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
        // One statement, atomic on its own (prisma/migrations/*_append_function): lock, version
        // check, idempotency record, insert, stored result, NOTIFY.
        rows = await db.$queryRaw<AppendRow[]>`
          SELECT outcome, version, position, stored_result, stored_hash
          FROM append_events(${streamId}, ${expectedVersion}::int, ${JSON.stringify(payload)}::jsonb,
                             ${command?.commandId ?? null}::text, ${command?.requestHash ?? null}::text,
                             ${EVENTS_CHANNEL})`;
      } catch (error) {
        const duplicateOf = duplicateAddressOf(error);
        if (duplicateOf !== null) throw new DuplicateAddressError(streamId, duplicateOf);
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
      const rows = await db.$queryRaw<(AppendRow & { ord: number })[]>`
        SELECT ord, outcome, version, position, stored_result, stored_hash
        FROM append_events_batch(${JSON.stringify(payload)}::jsonb, ${EVENTS_CHANNEL})`;
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

    async readStream(streamId: string, opts: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      const from = opts.fromVersion ?? 1;
      const to = opts.toVersion ?? 2_147_483_647;
      const limit = opts.limit ?? 10_000;
      const at = opts.recordedAtOrBefore ?? null;
      const rows = await db.$queryRaw<EventRow[]>`
        SELECT ${EVENT_COLUMNS} FROM events
        WHERE stream_id = ${streamId} AND stream_version BETWEEN ${from} AND ${to}
          AND (${at}::timestamptz IS NULL OR recorded_at <= ${at}::timestamptz)
        ORDER BY events.stream_version
        LIMIT ${limit}`;
      return rows.map(toRecorded);
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
      const rows = await db.$queryRaw<EventRow[]>`
        SELECT ${EVENT_COLUMNS} FROM events
        WHERE (transaction_id, position) > (${after.transactionId}::xid8, ${after.position}::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          AND (${types}::text[] IS NULL OR type = ANY(${types}::text[]))
        -- Qualified: the bare name would mean the text alias in the select list, which sorts
        -- '1000' before '999' and made the cursor skip events once transaction ids gained a digit.
        ORDER BY events.transaction_id, events.position
        LIMIT ${limit}`;
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

export interface BatchAppendItem {
  streamId: string;
  events: NewEvent[];
  expectedVersion: number;
  command?: CommandRecord;
}

export type BatchAppendOutcome =
  | { ok: true; result: AppendResult }
  | { ok: false; error: VersionConflictError | IdempotencyKeyReusedError };

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
