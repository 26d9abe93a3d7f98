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
