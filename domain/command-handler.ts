import { createHash } from 'node:crypto';
import { VersionConflictError } from './event-store/errors';
import type { EventStore, NewEvent } from './event-store/postgres-event-store';
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
}

// Each retry means another writer won; n racers need at most n - 1 retries.
const MAX_RACE_RETRIES = 10;

/** Stable JSON (sorted keys), so the same request always hashes the same. */
export function hashRequest(value: unknown): string {
  const stable = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(stable)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, stable((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(stable(value)) ?? 'undefined')
    .digest('hex');
}

/**
 * load stream → evolve* → decide → append with the version it was decided on. One function for
 * every command of every aggregate, so the rules for idempotency and conflicts live in one place.
 */
export function createCommandHandler<State, C extends Command, E extends Event>(deps: CommandHandlerDeps<State, C, E>) {
  const { store, decider } = deps;

  return async function handle(command: C, options: HandleOptions<State> = {}): Promise<HandleResult> {
    const streamId = deps.streamIdOf(command);
    const requestHash = options.requestHash ?? hashRequest({ type: command.type, data: command.data });
    const record = { commandId: command.metadata.commandId, requestHash };

    for (let attempt = 0; ; attempt++) {
      // Both reads at once: a repeated command answers from its stored result, without deciding.
      const given = attempt === 0 ? options.history : undefined;
      const read: Promise<readonly RecordedEvent[]> = given ? Promise.resolve(given) : store.readStream(streamId);
      const [previous, history] = await Promise.all([
        attempt === 0 ? store.findCommand(record.commandId, requestHash) : null,
        read,
      ]);
      if (previous) return { ...previous, appended: 0, replayed: true };
      const state = history.reduce((s, e) => decider.evolve(s, e as unknown as E), decider.initialState());
      const loadedVersion = history.at(-1)?.streamVersion ?? 0;
      // An empty stream is not a conflict but a missing aggregate: let `decide` say so (not found).
      if (options.expectedVersion !== undefined && options.expectedVersion !== loadedVersion && loadedVersion > 0) {
        throw new VersionConflictError(streamId, options.expectedVersion, loadedVersion);
      }
      options.check?.(state);
      const events = decider.decide(command, state);
      if (options.expectedVersion !== undefined && options.expectedVersion !== loadedVersion) {
        throw new VersionConflictError(streamId, options.expectedVersion, loadedVersion);
      }
      const toAppend: NewEvent[] = events.map((e) => ({ ...e, schemaVersion: deps.schemaVersionOf(e) }));
      try {
        const result = await store.append(streamId, toAppend, { expectedVersion: loadedVersion, command: record });
        return {
          // A replay answers the stored result's stream, not this call's: a registration mints a new
          // id per request, so 30 racing retries of one Idempotency-Key would otherwise answer 29 ids
          // that were never written.
          streamId: result.streamId,
          version: result.version,
          position: result.position,
          appended: result.replayed ? 0 : events.length,
          replayed: result.replayed,
        };
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
