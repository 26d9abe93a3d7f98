import { ADDRESS_EVENT_TYPES, type AddressEventType } from './events';
import { ADDRESS_FIELDS, type AddressFieldName, type AddressFields } from './fields';
import type { VersionRuns } from './version-runs';

export type AddressStatus = 'active' | 'archived';

/** One entry per applied event: every version's fields, for the timeline. */
export interface AddressHistoryEntry {
  version: number;
  type: AddressEventType;
  /** Snapshot of the fields after this event (`null` before registration). */
  fieldsAfter: AddressFields | null;
  status: AddressStatus;
}

export interface AddressState {
  exists: boolean;
  addressId?: string;
  status: AddressStatus;
  fields: AddressFields | null;
  /** Number of events applied (= stream version of the last one; 0 for a new stream). */
  version: number;
  /**
   * Every version's fields, only in a fold that started from `initialStateWithHistory()`: the
   * timeline reads it (replayWithHistory), nothing else does. Everywhere else it is absent, so
   * the state and its snapshot stay the same size however long the stream: with one entry per
   * version, a 10,000-event address's snapshot was 1.7 MB and a command on it cost 9.7× one on
   * a fresh address.
   */
  history?: AddressHistoryEntry[];
  /** What a revert reads of the past, only in a fold that started from `initialStateWithLookback()`. */
  lookback?: AddressLookback;
}

/**
 * What a revert needs of every version (decide.ts `revert`) and nothing more: the type of each
 * version's event, and for each field the versions that changed it with the value it had just
 * before each. A revert used to be decided on every version's full fields (`history`): 2 MB of
 * snapshot for a 10,000-event address, and a revert on it cost 11× one on a fresh address.
 */
export interface AddressLookback {
  /** Per event type, the versions whose event is of that type. */
  versionsOf: Record<AddressEventType, VersionRuns>;
  /** Per field, every version whose event changed its value. */
  changes: Record<AddressFieldName, AddressFieldChangeLog>;
}

export interface AddressFieldChangeLog {
  versions: VersionRuns;
  /**
   * The value just before each of the last `before.length` versions (`null`: unset, or no fields
   * yet), oldest first: the last one belongs to the newest version. A fold of the stream keeps
   * one per version; a lookback snapshot keeps the last few (snapshot.ts).
   */
  before: (string | null)[];
}

/** A state folded with every version's fields (what the timeline shows). */
export type AddressStateWithHistory = AddressState & { history: AddressHistoryEntry[] };

/** A state folded with the lookback of every version (what a revert is decided on). */
export type AddressStateWithLookback = AddressState & { lookback: AddressLookback };

export function initialState(): AddressState {
  return { exists: false, status: 'active', fields: null, version: 0 };
}

export function initialStateWithHistory(): AddressStateWithHistory {
  return { ...initialState(), history: [] };
}

export function initialStateWithLookback(): AddressStateWithLookback {
  return { ...initialState(), lookback: copyLookback(undefined) };
}

/** A copy of `lookback` whose lists can be grown without touching it (empty lists for `undefined`). */
export function copyLookback(lookback: AddressLookback | undefined): AddressLookback {
  const versionsOf = {} as Record<AddressEventType, VersionRuns>;
  for (const type of ADDRESS_EVENT_TYPES) versionsOf[type] = lookback?.versionsOf[type].slice() ?? [];
  const changes = {} as Record<AddressFieldName, AddressFieldChangeLog>;
  for (const name of ADDRESS_FIELDS) {
    const log = lookback?.changes[name];
    changes[name] = { versions: log?.versions.slice() ?? [], before: log?.before.slice() ?? [] };
  }
  return { versionsOf, changes };
}

/**
 * The version of AddressState's layout, stored with every snapshot of it (lib/ledger.ts): raise it
 * whenever a field of the state is added, removed or changes meaning, and snapshots of the old
 * layout are no longer read (they are rebuilt from the events). 2: the history left the state.
 * (`lookback` is not in the ordinary snapshot, and its own snapshots have a kind of their own.)
 */
export const ADDRESS_STATE_SHAPE = 2;
