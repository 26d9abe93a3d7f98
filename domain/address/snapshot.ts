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
  // The current state only, whatever it was folded with: this snapshot stays a few hundred bytes.
  toJson: ({ history: _, ...current }) => current,
  fromJson: (json) => json as AddressState,
};

/**
 * The state a revert is decided on (every version, decide.ts `initialStateFor`), under a kind of
 * its own and written only by reverts: it grows with the stream (≈ 2 MB at 10,000 events), so
 * no other command reads it, but a revert on a long history reads it and the events after it
 * instead of the whole stream (the first revert on a stream still folds every event).
 */
export const addressHistorySnapshots: SnapshotPolicy<AddressState> = {
  kind: 'address-history',
  shape: ADDRESS_STATE_SHAPE,
  every: 500,
  toJson: (state) => state,
  fromJson: (json) => json as AddressState,
};
