import type { AddressEventType } from './events';
import type { AddressFields } from './fields';

export type AddressStatus = 'active' | 'archived';

/** One entry per applied event, so a revert can look back at earlier versions. */
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
   * Every version, only in a fold that started from `initialStateWithHistory()`: a revert reads
   * it (decide.ts `initialStateFor`), nothing else does. Everywhere else it is absent, so the
   * state and its snapshot stay the same size however long the stream: with one entry per
   * version, a 10,000-event address's snapshot was 1.7 MB and a command on it cost 9.7× one on
   * a fresh address.
   */
  history?: AddressHistoryEntry[];
}

/** A state folded with every version (what a revert is decided on). */
export type AddressStateWithHistory = AddressState & { history: AddressHistoryEntry[] };

export function initialState(): AddressState {
  return { exists: false, status: 'active', fields: null, version: 0 };
}

export function initialStateWithHistory(): AddressStateWithHistory {
  return { ...initialState(), history: [] };
}

/**
 * The version of AddressState's layout, stored with every snapshot of it (lib/ledger.ts): raise it
 * whenever a field of the state is added, removed or changes meaning, and snapshots of the old
 * layout are no longer read (they are rebuilt from the events). 2: the history left the state.
 */
export const ADDRESS_STATE_SHAPE = 2;
