import { hash } from 'node:crypto';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from './event-store/errors';
import type {
  AppendResult,
  BatchAppendItem,
  BatchAppendOutcome,
  CommandRecord,
  EventStore,
  NewEvent,
} from './event-store/event-store';
import type { Command, Decider, Event, RecordedEvent } from './messages';

export interface HandleOptions<State = unknown> {
  /**
   * The version the caller last saw. When given, a stream at any other version is a conflict the
   * caller must resolve; when absent (imports, scripts), a race with another writer is retried.
   */
  expectedVersion?: number;
  /** Identifies the request for idempotency; defaults to a hash of the command's type and data. */
  requestHash?: string;
  /**
   * The stream as the caller has just read it from the same store (a form reads it to build the
   * command), so it is not read a second time. A copy that is already stale fails the append's
   * version check like any other.
   */
  history?: readonly RecordedEvent[];
  /**
   * A boundary rule that needs the address as it stands, checked on the state the command is
   * decided on (no read of its own): e.g. a changed postal code against the country the address
   * keeps. Throws to refuse; nothing is appended.
   */
  check?: (state: State) => void;
}

export interface HandleResult {
  streamId: string;
  version: number;
  /** Global position of the last event appended, or null when the command changed nothing. */
  position: string | null;
  /** Number of events appended by this call (0 for an already-satisfied or repeated command). */
  appended: number;
  replayed: boolean;
}

export interface CommandHandlerDeps<State, C extends Command, E extends Event> {
  store: EventStore;
  decider: Decider<State, C, E>;
  streamIdOf(command: C): string;
  schemaVersionOf(event: E): number;
  /** Keep the decider's state beside the stream, so a long history is not replayed per command. */
  snapshots?: SnapshotPolicy<State>;
  /**
   * The same for the state a command with `decider.initialStateFor` is decided on (a kind of its
   * own: that state keeps what the ordinary one leaves out, e.g. every version). Without it, such
   * a command folds the whole stream.
   */
  lookbackSnapshots?: SnapshotPolicy<State>;
}

export interface SnapshotPolicy<State> {
  /** Names the decider (one stream could be folded by several). */
  kind: string;
  /** The state layout's version: a snapshot of another shape is not read, but rebuilt. */
  shape: number;
  /** A new snapshot is written once this many events were folded on top of the last one. */
  every: number;
  /** The state as stored JSON, and back (the store keeps JSON). */
  toJson(state: State): unknown;
  fromJson(json: unknown): State;
  /** A snapshot that could not be written (it is a cache: the command has succeeded anyway). */
  onError?(error: unknown): void;
}

// Each retry means another writer won; n racers need at most n - 1 retries.
const MAX_RACE_RETRIES = 10;

/** Stable JSON (sorted keys), so the same request always hashes the same. */
export function hashRequest(value: unknown): string {
  return hash('sha256', stableJson(value) ?? 'undefined', 'hex');
}

/** An array index as JSON orders object keys: canonical digits below 2^32 - 1. */
const isIndexKey = (key: string) => /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295;

/**
 * `JSON.stringify` of a copy of `value` whose objects have their keys sorted: the text of every
 * request hash stored so far, so it must not change by a byte. Written out, because building the
 * sorted copy first took a tenth of an import's time in Node. A sorted copy's keys come out as
 * JSON orders any object's: array-index keys first, in numeric order, then the rest as sorted.
 * Any other object (a Date, a String) is its own enumerable keys, as the copy made it.
 * (command-handler.unit.spec.ts compares the two on generated values.)
 */
function stableJson(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${stableJson(value[i]) ?? 'null'}`;
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  const indexes = keys.filter(isIndexKey);
  const ordered =
    indexes.length === 0
      ? keys
      : [...indexes.sort((a, b) => Number(a) - Number(b)), ...keys.filter((k) => !isIndexKey(k))];
  let out = '{';
  for (const key of ordered) {
    const json = stableJson((value as Record<string, unknown>)[key]);
    if (json === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${json}`;
  }
  return `${out}}`;
}

/**
 * load stream → evolve* → decide → append with the version it was decided on. One function for
 * every command of every aggregate, so the rules for idempotency and conflicts live in one place.
 */
export function createCommandHandler<State, C extends Command, E extends Event>(deps: CommandHandlerDeps<State, C, E>) {
  const { store, decider } = deps;

  const fold = (state: State, events: readonly E[]) =>
    decider.evolveAll ? decider.evolveAll(state, events) : events.reduce(decider.evolve, state);
  /** Where a command's state starts (a snapshot of which policy, or the initial state). */
  const startOf = (command: C) => {
    const lookback = decider.initialStateFor?.(command);
    return lookback
      ? { initial: lookback, policy: deps.lookbackSnapshots }
      : { initial: decider.initialState(), policy: deps.snapshots };
  };
  /** The events a command gives on an empty stream, or null when it is refused there. */
  const decideOnInitialState = (command: C): E[] | null => {
    try {
      return decider.decide(command, startOf(command).initial);
    } catch {
      return null;
    }
  };

  /**
   * The state to decide on: from the caller's copy of the stream, or in one read from the store,
   * which also answers a repeated command from its stored result (then nothing is decided).
   */
  async function load(command: C, record: CommandRecord, attempt: number, given?: readonly RecordedEvent[]) {
    const first = attempt === 0;
    const { initial, policy } = startOf(command);
    if (given) {
      const previous = await store.findCommand(record.commandId, record.requestHash);
      return {
        previous,
        state: fold(initial, given as unknown as E[]),
        version: given.at(-1)?.streamVersion ?? 0,
        folded: given.length,
      };
    }
    const loaded = await store.loadForCommand(deps.streamIdOf(command), {
      snapshot: policy && { kind: policy.kind, shape: policy.shape },
      command: first ? record : undefined,
    });
    const base = loaded.snapshot && policy ? policy.fromJson(loaded.snapshot.state) : initial;
    const state = fold(base, loaded.events as unknown as E[]);
    const version = loaded.events.at(-1)?.streamVersion ?? loaded.snapshot?.version ?? 0;
    if (loaded.snapshot && decider.canDecide?.(command, state) === false) {
      // The snapshot keeps less of the past than this command reads: every event, as without one.
      const events = await store.readStream(deps.streamIdOf(command));
      return {
        previous: loaded.previous,
        state: fold(initial, events as unknown as E[]),
        version: events.at(-1)?.streamVersion ?? 0,
        folded: events.length,
      };
    }
    return { previous: loaded.previous, state, version, folded: loaded.events.length };
  }

  /** Off the command's path: the answer does not wait for it, and a failure only costs a replay later. */
  function snapshotAfter(command: C, state: State, events: readonly E[], version: number, folded: number) {
    const { policy } = startOf(command);
    const streamId = deps.streamIdOf(command);
    if (!policy || folded + events.length < policy.every) return;
    const json = policy.toJson(fold(state, events));
    store
      .saveSnapshot(streamId, { kind: policy.kind, shape: policy.shape, version, state: json })
      .catch((error: unknown) => policy.onError?.(error));
  }

  return async function handle(command: C, options: HandleOptions<State> = {}): Promise<HandleResult> {
    const streamId = deps.streamIdOf(command);
    const requestHash = options.requestHash ?? hashRequest({ type: command.type, data: command.data });
    const record = { commandId: command.metadata.commandId, requestHash };
    const toNew = (events: readonly E[]): NewEvent[] =>
      events.map((e) => ({ ...e, schemaVersion: deps.schemaVersionOf(e) }));
    const answer = (result: AppendResult, appended: number): HandleResult => ({
      // A replay answers the stored result's stream, not this call's: a registration mints a new
      // id per request, so 30 racing retries of one Idempotency-Key would otherwise answer 29 ids
      // that were never written.
      streamId: result.streamId,
      version: result.version,
      position: result.position,
      appended: result.replayed ? 0 : appended,
      replayed: result.replayed,
    });

    // A command that starts a stream (a registration) is decided on the initial state and
    // appended at version 0 at once: one round trip instead of two (the read found nothing
    // anyway). The append stays the judge: a repeat answers its stored result, and a stream that
    // exists is a conflict, after which the command is decided on what is stored, as always.
    // Not with a boundary check, which must see the stored state.
    if (!options.history && !options.check && (options.expectedVersion ?? 0) === 0) {
      const events = decideOnInitialState(command);
      if (events && events.length > 0) {
        try {
          const result = await store.append(streamId, toNew(events), { expectedVersion: 0, command: record });
          if (!result.replayed) snapshotAfter(command, startOf(command).initial, events, result.version, 0);
          return answer(result, events.length);
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
        }
      }
    }

    for (let attempt = 0; ; attempt++) {
      const {
        previous,
        state,
        version: loadedVersion,
        folded,
      } = await load(command, record, attempt, attempt === 0 ? options.history : undefined);
      if (previous) return { ...previous, appended: 0, replayed: true };
      // An empty stream is not a conflict but a missing aggregate: let `decide` say so (not found).
      if (options.expectedVersion !== undefined && options.expectedVersion !== loadedVersion && loadedVersion > 0) {
        throw new VersionConflictError(streamId, options.expectedVersion, loadedVersion);
      }
      options.check?.(state);
      const events = decider.decide(command, state);
      if (options.expectedVersion !== undefined && options.expectedVersion !== loadedVersion) {
        throw new VersionConflictError(streamId, options.expectedVersion, loadedVersion);
      }
      try {
        const result = await store.append(streamId, toNew(events), { expectedVersion: loadedVersion, command: record });
        if (!result.replayed) snapshotAfter(command, state, events, result.version, folded);
        return answer(result, events.length);
      } catch (error) {
        // Someone appended between our read and our write. With a caller-supplied version that is
        // the caller's conflict; without one, decide again on the fresh state.
        if (
          error instanceof VersionConflictError &&
          options.expectedVersion === undefined &&
          attempt < MAX_RACE_RETRIES
        ) {
          continue;
        }
        throw error;
      }
    }
  };
}

/** What `command` is decided on when its stream is empty. */
function initialStateOf<State, C extends Command, E extends Event>(decider: Decider<State, C, E>, command: C): State {
  return decider.initialStateFor?.(command) ?? decider.initialState();
}

export type BatchHandleOutcome = { ok: true; result: HandleResult } | { ok: false; error: unknown };

/**
 * Many commands that each start a new stream (e.g. an import's registrations), appended in one
 * round trip with every guarantee of `handle`: each is decided on the initial state and appended
 * only if its stream is still empty (expected version 0), with its own idempotency record.
 *
 * Whatever the batch cannot settle goes through `handle`, one command at a time, so each answer
 * is exactly the one a single command would get:
 *   - a stream that already exists (handle loads it and decides: already registered, or a replay);
 *   - a batch the database refused as a whole (e.g. a trigger's unique violation on one row):
 *     the caller's `answerRefused` may name the culprits, which are answered without being sent,
 *     and the rest is sent again; otherwise it is retried in halves until only the culprit is
 *     left, which fails with its own error; the rest go in.
 * Per command: its result, or the error `handle` would have thrown (domain rule, reused key).
 * Errors that are not about one command (the database is down) are thrown.
 */
export function createBatchCommandHandler<State, C extends Command, E extends Event>(
  deps: CommandHandlerDeps<State, C, E> & { isRuleError: (error: unknown) => boolean },
) {
  const { store, decider } = deps;
  const isAboutTheCommand = (error: unknown) => isAboutTheCommandOf(error, deps.isRuleError);
  const handle = createCommandHandler(deps);

  const one = async (command: C): Promise<BatchHandleOutcome> => {
    try {
      return { ok: true, result: await handle(command) };
    } catch (error) {
      if (isAboutTheCommand(error)) return { ok: false, error };
      throw error;
    }
  };

  return async function handleBatch<K extends C>(
    commands: readonly K[],
    options: {
      onBatchRefused?: (error: unknown) => void;
      /**
       * For a part the database refused whole: the commands of `part` (by index) to answer with
       * the given error without sending them, e.g. the rows the duplicate guard would refuse. One
       * duplicate among 1,000 rows halved down to itself sends the other rows about ten times
       * again (2.5 s of a 30 s import of the Maine/New Hampshire file, for each of its duplicates).
       */
      answerRefused?: (error: unknown, part: readonly K[]) => Promise<ReadonlyMap<number, unknown>>;
    } = {},
  ): Promise<BatchHandleOutcome[]> {
    const outcomes: (BatchHandleOutcome | undefined)[] = new Array(commands.length);
    const items: (BatchAppendItem & { index: number; appended: number })[] = [];
    for (const [index, command] of commands.entries()) {
      try {
        const events = decider.decide(command, initialStateOf(decider, command));
        items.push({
          index,
          appended: events.length,
          streamId: deps.streamIdOf(command),
          expectedVersion: 0,
          events: events.map((e) => ({ ...e, schemaVersion: deps.schemaVersionOf(e) })),
          command: {
            commandId: command.metadata.commandId,
            requestHash: hashRequest({ type: command.type, data: command.data }),
          },
        });
      } catch (error) {
        if (!isAboutTheCommand(error)) throw error;
        outcomes[index] = { ok: false, error };
      }
    }

    // A refused batch loses the commands `answerRefused` names and goes again; one it cannot
    // explain is halved until the parts go in, and a single command left refused takes the
    // single-command path, which answers it as `handle` would. One duplicate among 1,000 rows so
    // costs 2 round trips with an answer and about 20 without, instead of 1,000 single commands.
    const settle = async (part: typeof items, depth: number): Promise<void> => {
      if (part.length === 0) return;
      let appended: BatchAppendOutcome[] | null = null;
      try {
        appended = await store.appendBatch(part);
      } catch (error) {
        // Also class 40 (deadlock, serialization failure): two batches creating the same new
        // streams in a different order can deadlock; smaller ones are retried.
        if (!isAboutTheCommand(error) && !sqlState(error)?.startsWith('40')) throw error;
        if (depth === 0) options.onBatchRefused?.(error);
        if (part.length > 1) {
          const answered = options.answerRefused
            ? await options.answerRefused(
                error,
                part.map((item) => commands[item.index]!),
              )
            : new Map<number, unknown>();
          const rest = part.filter((item, i) => {
            if (!answered.has(i)) return true;
            outcomes[item.index] = { ok: false, error: answered.get(i) };
            return false;
          });
          if (rest.length < part.length) {
            await settle(rest, depth + 1);
          } else {
            const half = Math.ceil(part.length / 2);
            await settle(part.slice(0, half), depth + 1);
            await settle(part.slice(half), depth + 1);
          }
          return;
        }
      }
      for (const [i, item] of part.entries()) {
        const outcome = appended?.[i];
        if (outcome?.ok) {
          const { result } = outcome;
          outcomes[item.index] = { ok: true, result: { ...result, appended: result.replayed ? 0 : item.appended } };
        } else if (outcome && outcome.error instanceof IdempotencyKeyReusedError) {
          outcomes[item.index] = { ok: false, error: outcome.error };
        } else {
          // A stream that exists already, or a command refused on its own: the single-command path.
          outcomes[item.index] = await one(commands[item.index]!);
        }
      }
    };
    await settle(items, 0);
    return outcomes as BatchHandleOutcome[];
  };
}

/**
 * Errors that concern one command, not the system: business rules (`isRuleError`), idempotency,
 * conflicts, and integrity violations the database raised for one row (SQLSTATE class 23, e.g. a
 * unique guard). Anything else (a lost connection, a broken query) stops the batch instead of
 * quietly rejecting every row.
 */
function isAboutTheCommandOf(error: unknown, isRuleError: (error: unknown) => boolean): boolean {
  if (
    error instanceof IdempotencyKeyReusedError ||
    error instanceof VersionConflictError ||
    error instanceof DuplicateAddressError
  ) {
    return true;
  }
  return isRuleError(error) || (sqlState(error)?.startsWith('23') ?? false);
}

/** The PostgreSQL error code behind a pg or Prisma (driver adapter) error, if any. */
export function sqlState(error: unknown): string | undefined {
  const e = error as {
    code?: unknown;
    meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown } } };
  } | null;
  const candidates = [e?.meta?.driverAdapterError?.cause?.originalCode, e?.meta?.code, e?.code];
  if (e?.code === 'P2002') return '23505';
  return candidates.find((c): c is string => typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c));
}
