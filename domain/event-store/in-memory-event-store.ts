import type { RecordedEvent } from '../messages';
import { encodeCursor } from './cursor';
import { IdempotencyKeyReusedError, VersionConflictError } from './errors';
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
} from './event-store';

/**
 * The EventStore contract in memory, for unit tests of what sits above the store (the command
 * handler). The rules `handle` relies on are the Postgres store's: the version check, the stored
 * result of a command id, a reused id refused. Not for production: no gap-safety to speak of (one
 * process, no transactions), and time is a counter.
 */
export function createInMemoryEventStore(
  options: {
    /** Runs before each append's version check: a test lets a "concurrent" writer win here. */
    beforeAppend?: (streamId: string) => Promise<void> | void;
  } = {},
) {
  const streams = new Map<string, RecordedEvent[]>();
  const all: RecordedEvent[] = [];
  const commands = new Map<string, { requestHash: string; result: Omit<AppendResult, 'replayed'> }>();
  const snapshots = new Map<string, StoredSnapshot>();
  const calls = { append: 0, loadForCommand: 0, saveSnapshot: 0 };

  const stream = (id: string) => streams.get(id) ?? [];
  const version = (id: string) => stream(id).at(-1)?.streamVersion ?? 0;

  function previousOf(command: CommandRecord | undefined): AppendResult | null {
    if (!command) return null;
    const found = commands.get(command.commandId);
    if (!found) return null;
    if (found.requestHash !== command.requestHash) throw new IdempotencyKeyReusedError(command.commandId);
    return { ...found.result, replayed: true };
  }

  function write(streamId: string, events: NewEvent[], expectedVersion: number, command?: CommandRecord) {
    const previous = previousOf(command);
    if (previous) return previous;
    if (version(streamId) !== expectedVersion) {
      throw new VersionConflictError(streamId, expectedVersion, version(streamId));
    }
    const list = stream(streamId);
    for (const [i, e] of events.entries()) {
      const recordedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, all.length)).toISOString();
      const recorded: RecordedEvent = {
        ...e,
        eventId: `event-${all.length + 1}`,
        streamId,
        streamVersion: expectedVersion + i + 1,
        position: String(all.length + 1),
        recordedAt,
        metadata: { ...e.metadata, recordedAt },
      };
      list.push(recorded);
      all.push(recorded);
    }
    streams.set(streamId, list);
    const result = {
      streamId,
      version: version(streamId),
      position: events.length > 0 ? list.at(-1)!.position : null,
    };
    if (command) commands.set(command.commandId, { requestHash: command.requestHash, result });
    return { ...result, replayed: false };
  }

  const store: EventStore = {
    async findCommand(commandId, requestHash) {
      return previousOf({ commandId, requestHash });
    },
    async streamVersion(streamId) {
      return version(streamId);
    },
    async append(streamId, events, opts) {
      calls.append++;
      await options.beforeAppend?.(streamId);
      try {
        return write(streamId, events, opts.expectedVersion, opts.command);
      } catch (error) {
        // As the Postgres store: the same command may have won the race; answer its result.
        const previous = error instanceof VersionConflictError ? previousOf(opts.command) : null;
        if (previous) return previous;
        throw error;
      }
    },
    async appendBatch(items: readonly BatchAppendItem[]): Promise<BatchAppendOutcome[]> {
      return items.map((item) => {
        try {
          return { ok: true, result: write(item.streamId, item.events, item.expectedVersion, item.command) };
        } catch (error) {
          if (error instanceof VersionConflictError || error instanceof IdempotencyKeyReusedError) {
            return { ok: false, error };
          }
          throw error;
        }
      });
    },
    async readStream(streamId, opts: ReadStreamOptions = {}) {
      const from = opts.fromVersion ?? 1;
      const to = opts.toVersion ?? Number.MAX_SAFE_INTEGER;
      const events = stream(streamId).filter((e) => e.streamVersion >= from && e.streamVersion <= to);
      return opts.limit === undefined ? events : events.slice(0, opts.limit);
    },
    async loadForCommand(streamId, opts: LoadForCommandOptions): Promise<LoadedStream> {
      calls.loadForCommand++;
      const previous = previousOf(opts.command);
      if (previous) return { previous, snapshot: null, events: [] };
      const key = opts.snapshot && `${streamId}\n${opts.snapshot.kind}\n${opts.snapshot.shape}`;
      const snapshot = (key && snapshots.get(key)) || null;
      // A copy, as the database gives: the handler must not be able to change what is stored.
      const copy = snapshot && { ...snapshot, state: structuredClone(snapshot.state) };
      return { previous: null, snapshot: copy, events: stream(streamId).slice(snapshot?.version ?? 0) };
    },
    async saveSnapshot(streamId, snapshot) {
      calls.saveSnapshot++;
      const key = `${streamId}\n${snapshot.kind}\n${snapshot.shape}`;
      const current = snapshots.get(key);
      if (!current || current.version < snapshot.version) {
        snapshots.set(key, { ...snapshot, state: structuredClone(snapshot.state) });
      }
    },
    async readAll(opts: ReadAllOptions = {}): Promise<ReadAllResult> {
      const after = typeof opts.after === 'string' ? Number(opts.after.split('-')[1] ?? 0) : 0;
      const events = all
        .filter((e) => Number(e.position) > after && (!opts.types?.length || opts.types.includes(e.type)))
        .slice(0, opts.limit ?? 100)
        .map((e) => ({ ...e, cursor: encodeCursor({ transactionId: e.position, position: e.position }) }));
      return { events, next: events.at(-1)?.cursor ?? (typeof opts.after === 'string' ? opts.after : '') };
    },
    async headPosition() {
      return String(all.length);
    },
  };
  /** Another writer's append, committed at the head (no hook, no command record). */
  const insert = (streamId: string, events: NewEvent[]) => write(streamId, events, version(streamId));
  return { store, calls, snapshots, insert };
}
