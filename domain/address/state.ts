import type { AddressEventType } from './events';
import type { AddressFields } from './fields';

export type AddressStatus = 'active' | 'archived';

/** One entry per applied event, so corrections and reverts can look back at earlier versions. */
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
  history: AddressHistoryEntry[];
}

export function initialState(): AddressState {
  return { exists: false, status: 'active', fields: null, version: 0, history: [] };
}

/**
 * The version of AddressState's layout, stored with every snapshot of it (lib/ledger.ts): raise it
 * whenever a field of the state or of its history entries is added, removed or changes meaning,
 * and snapshots of the old layout are no longer read (they are rebuilt from the events).
 */
export const ADDRESS_STATE_SHAPE = 1;
