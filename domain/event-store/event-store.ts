import type { Event, RecordedEvent } from '../messages';
import type { GlobalCursor } from './cursor';
import type { IdempotencyKeyReusedError, VersionConflictError } from './errors';

/**
 * What the write side and the projections need from an event store, and nothing about how it is
 * kept: `postgres-event-store.ts` is the real one; `in-memory-event-store.ts` lets unit tests run
 * the command handler's branches (retry, conflict, replay) without a database.
 */
export interface EventStore {
  /** The stored result of an earlier command with this id, or null; throws IdempotencyKeyReusedError for another request. */
  findCommand(commandId: string, requestHash: string): Promise<AppendResult | null>;
  /** The stream's head version (0 for a stream without events). */
  streamVersion(streamId: string): Promise<number>;
  /**
   * Appends all events of one command atomically, if the stream is still at `expectedVersion`
   * (else VersionConflictError). With a `command`, its result is stored under its id in the same
   * transaction, and a repeat returns that result without appending.
   */
  append(
    streamId: string,
    events: NewEvent[],
    opts: { expectedVersion: number; command?: CommandRecord },
  ): Promise<AppendResult>;
  /** Many commands' appends at once, each with every guarantee of `append`; one outcome per item. */
  appendBatch(items: readonly BatchAppendItem[]): Promise<BatchAppendOutcome[]>;
  /** A stream's events in version order: all of them unless `limit` is given. */
  readStream(streamId: string, opts?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * What a command is decided on, in one read: the newest snapshot of `snapshot.kind` at
   * `snapshot.shape` (if any), the events after it, and the stored result of `command` if it
   * was already processed (a repeat then needs nothing else).
   */
  loadForCommand(streamId: string, opts: LoadForCommandOptions): Promise<LoadedStream>;
  /** Stores the state a stream folds into at `version` (a cache: losing it only costs a replay). */
  saveSnapshot(streamId: string, snapshot: StoredSnapshot): Promise<void>;
  /** The global order, gap-safe (never skips an event whose transaction commits late). */
  readAll(opts?: ReadAllOptions): Promise<ReadAllResult>;
  /** Highest position appended so far (visible or not yet safe to read), for lag reporting. */
  headPosition(): Promise<string>;
}

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
  /** At most this many events; without it, every event of the range (a long stream is read in pages). */
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

export interface BatchAppendItem {
  streamId: string;
  events: NewEvent[];
  expectedVersion: number;
  command?: CommandRecord;
}

export type BatchAppendOutcome =
  | { ok: true; result: AppendResult }
  | { ok: false; error: VersionConflictError | IdempotencyKeyReusedError };

/**
 * A decider's state at a stream version, kept beside the stream. `kind` names the decider,
 * `shape` the version of its state's layout: a snapshot of another shape is never read (it is
 * rebuilt from events), so changing the state's layout needs only a new shape number.
 */
export interface StoredSnapshot {
  kind: string;
  shape: number;
  version: number;
  state: unknown;
}

export interface LoadForCommandOptions {
  snapshot?: { kind: string; shape: number };
  command?: CommandRecord;
}

export interface LoadedStream {
  /** The stored result of the command, when it was already processed (then nothing else is read). */
  previous: AppendResult | null;
  snapshot: StoredSnapshot | null;
  /** The events after the snapshot (all events without one), in version order. */
  events: RecordedEvent[];
}
