import type { SnapshotPolicy } from '../command-handler';
import { ADDRESS_STATE_SHAPE, type AddressState } from './state';

/**
 * Address state beside each stream, written once 500 events were folded on top of the last
 * snapshot (or of nothing): a command on a long history reads the snapshot and at most a few
 * hundred events instead of all of them. The state is plain JSON already; ADDRESS_STATE_SHAPE
 * guards its layout (a snapshot of another layout is not read, and is rebuilt from the events).
 */
export const addressSnapshots: SnapshotPolicy<AddressState> = {
  kind: 'address',
  shape: ADDRESS_STATE_SHAPE,
  every: 500,
  // A revert's state keeps every version (state.ts); its snapshot keeps the current state only.
  toJson: ({ history: _, ...current }) => current,
  fromJson: (json) => json as AddressState,
};
