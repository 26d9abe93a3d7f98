import type { SnapshotPolicy } from '../command-handler';
import { ADDRESS_EVENT_TYPES, type AddressEventType } from './events';
import { ADDRESS_FIELDS, type AddressFieldName } from './fields';
import { ADDRESS_STATE_SHAPE, type AddressFieldChangeLog, type AddressLookback, type AddressState } from './state';
import { runsFromText, runsText } from './version-runs';

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
  toJson: ({ history: _, lookback: __, ...current }) => current,
  fromJson: (json) => json as AddressState,
};

/** The lookback as a snapshot stores it: versions as text ("2-9,12"), and the last values only. */
interface StoredLookback {
  versionsOf: Record<AddressEventType, string>;
  changes: Record<AddressFieldName, { versions: string; before: (string | null)[] }>;
}

/**
 * The state a revert is decided on (with the lookback of every version, decide.ts
 * `initialStateFor`), under a kind of its own and written only by reverts, so no other command
 * reads it; a revert on a long history reads it and the events after it instead of the whole
 * stream (the first revert on a stream still folds every event). Its kind was 'address-history'
 * while it held every version's fields (2 MB at 10,000 events; those rows are never read again).
 *
 * What PostgreSQL spends turning a jsonb snapshot into text grows with it (a 10,000-event
 * address's full lookback, 0.3 MB, took 11 ms to read where the ordinary snapshot takes 0.6 ms),
 * so this one stays small: the versions as text (a jsonb array of 10,000 numbers alone costs
 * 3 ms), and per field only the values before its last `valuesKept` changes.
 * A revert of an older change is decided on the whole stream instead (decide.ts `canDecide`).
 */
export function addressLookbackSnapshotsKeeping(valuesKept: number): SnapshotPolicy<AddressState> {
  return {
    kind: 'address-lookback',
    shape: ADDRESS_STATE_SHAPE,
    every: 500,
    toJson: ({ history: _, lookback, ...current }) =>
      lookback ? { ...current, lookback: storedLookback(lookback, valuesKept) } : current,
    fromJson: (json) => {
      const { lookback, ...current } = json as AddressState & { lookback?: StoredLookback };
      return lookback ? { ...current, lookback: lookbackFrom(lookback) } : current;
    },
  };
}

/** Reverts undo one of the last changes, as a rule: 100 values per field are a few kB. */
export const addressLookbackSnapshots = addressLookbackSnapshotsKeeping(100);

function storedLookback({ versionsOf, changes }: AddressLookback, valuesKept: number): StoredLookback {
  const stored: StoredLookback = { versionsOf: {}, changes: {} } as StoredLookback;
  for (const type of ADDRESS_EVENT_TYPES) stored.versionsOf[type] = runsText(versionsOf[type]);
  for (const name of ADDRESS_FIELDS) {
    const { versions, before } = changes[name];
    stored.changes[name] = {
      versions: runsText(versions),
      before: before.slice(Math.max(0, before.length - valuesKept)),
    };
  }
  return stored;
}

function lookbackFrom(stored: StoredLookback): AddressLookback {
  const lookback: AddressLookback = { versionsOf: {}, changes: {} } as AddressLookback;
  for (const type of ADDRESS_EVENT_TYPES) lookback.versionsOf[type] = runsFromText(stored.versionsOf[type]);
  for (const name of ADDRESS_FIELDS) {
    const { versions, before } = stored.changes[name];
    lookback.changes[name] = { versions: runsFromText(versions), before } satisfies AddressFieldChangeLog;
  }
  return lookback;
}
