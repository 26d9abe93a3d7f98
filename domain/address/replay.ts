import { UnknownVersion } from './errors';
import type { AddressEvent } from './events';
import { evolveAll } from './evolve';
import {
  type AddressState,
  type AddressStateWithHistory,
  type AddressStateWithLookback,
  initialState,
  initialStateWithHistory,
  initialStateWithLookback,
} from './state';

/** Folds `evolve` over the events, in the order given (stream order), starting from `from`. */
export function replay(events: Iterable<AddressEvent>, from: AddressState = initialState()): AddressState {
  return evolveAll(from, events);
}

/** The same fold keeping every version's fields (AddressState.history): for the timeline. */
export function replayWithHistory(events: Iterable<AddressEvent>): AddressStateWithHistory {
  return evolveAll(initialStateWithHistory(), events);
}

/** The same fold keeping what a revert reads of every version (AddressState.lookback). */
export function replayWithLookback(events: Iterable<AddressEvent>): AddressStateWithLookback {
  return evolveAll(initialStateWithLookback(), events);
}

export interface StateAtOptions {
  /** Apply only the first `version` events (0 = before registration). Must be 0..events.length. */
  version?: number;
  /**
   * Apply only events recorded at or before this instant (ISO 8601 string or Date). Uses the
   * event's `recordedAt` (top level of a RecordedEvent, or `metadata.recordedAt`); an event without
   * one has not been stored yet and ends the fold.
   */
  at?: string | Date;
}

/**
 * The state as it was at a version and/or a point in time (both limits apply when both are given).
 * Throws `UnknownVersion` for a version the stream does not have, `RangeError` for an invalid `at`.
 */
export function stateAt(events: readonly AddressEvent[], options: StateAtOptions = {}): AddressState {
  const { version, at } = options;
  let limit = events.length;
  if (version !== undefined) {
    if (!Number.isInteger(version) || version < 0 || version > events.length) {
      throw new UnknownVersion(version, events.length);
    }
    limit = version;
  }
  const cutoff = at === undefined ? undefined : toMillis(at);
  if (cutoff !== undefined) {
    const late = events.findIndex((event, i) => {
      if (i >= limit) return false;
      const recordedAt = recordedAtOf(event);
      return recordedAt === undefined || Date.parse(recordedAt) > cutoff;
    });
    if (late !== -1) limit = late;
  }
  return evolveAll(initialState(), events.slice(0, limit));
}

function toMillis(at: string | Date): number {
  const millis = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(millis)) throw new RangeError(`stateAt: invalid timestamp ${String(at)}`);
  return millis;
}

function recordedAtOf(event: AddressEvent): string | undefined {
  const top = (event as { recordedAt?: unknown }).recordedAt;
  if (typeof top === 'string') return top;
  return event.metadata.recordedAt;
}
