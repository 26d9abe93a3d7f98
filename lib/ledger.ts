import {
  type AddressCommand,
  type AddressEvent,
  type AddressState,
  addressDecider,
  addressLookbackSnapshots,
  addressSnapshots,
  addressStreamId,
  CURRENT_SCHEMA_VERSIONS,
  isDomainError,
  replay,
  upcast,
} from '@/domain/address';
import { createBatchCommandHandler, createCommandHandler, type SnapshotPolicy } from '@/domain/command-handler';
import type { ReadStreamOptions } from '@/domain/event-store/event-store';
import { createEventStore } from '@/domain/event-store/postgres-event-store';
import type { RecordedEvent } from '@/domain/messages';
import { type Db, poolOf, prisma } from './db';
import { logger } from './logger';

const onSnapshotError = (error: unknown) =>
  logger.warn({ err: String(error) }, 'address snapshot not written; the next command replays');

/** Address snapshots (domain/address/snapshot.ts); a failed write is logged, the next command replays. */
export const ADDRESS_SNAPSHOTS: SnapshotPolicy<AddressState> = { ...addressSnapshots, onError: onSnapshotError };
/** The same for the state with the lookback of every version that reverts are decided on. */
export const ADDRESS_LOOKBACK_SNAPSHOTS: SnapshotPolicy<AddressState> = {
  ...addressLookbackSnapshots,
  onError: onSnapshotError,
};

/**
 * The write side wired together: the event store (reading old shapes through the upcasters) and
 * the command handler for the Address aggregate. Tests build one per test database.
 */
export function createLedger(db: Db) {
  const store = createEventStore(db, { upcast, pool: poolOf(db) });
  const deps = {
    store,
    decider: addressDecider,
    streamIdOf: (command: AddressCommand) => addressStreamId(command.data.addressId),
    schemaVersionOf: (event: AddressEvent) => CURRENT_SCHEMA_VERSIONS[event.type],
    snapshots: ADDRESS_SNAPSHOTS,
    lookbackSnapshots: ADDRESS_LOOKBACK_SNAPSHOTS,
  };
  const handle = createCommandHandler<AddressState, AddressCommand, AddressEvent>(deps);
  /** Registrations (commands that start a stream) in batches of one round trip (imports). */
  const handleBatch = createBatchCommandHandler<AddressState, AddressCommand, AddressEvent>({
    ...deps,
    isRuleError: isDomainError,
  });
  /** One address's events (through the upcasters) and the state they fold into. */
  async function loadAddress(addressId: string, options: ReadStreamOptions = {}) {
    const events = (await store.readStream(addressStreamId(addressId), options)) as RecordedEvent<AddressEvent>[];
    return { events, state: replay(events) };
  }

  /**
   * The same store without the upcasters, for the projector and rebuilds: they upcast each event
   * themselves, so one event they cannot read parks its address instead of failing a whole page.
   */
  const rawStore = createEventStore(db, { pool: poolOf(db) });

  return { db, store, rawStore, handle, handleBatch, loadAddress };
}

export type Ledger = ReturnType<typeof createLedger>;

const ledgers = new WeakMap<Db, Ledger>();

/** The process-wide ledger on DATABASE_URL. */
export function ledger(): Ledger {
  const db = prisma();
  let l = ledgers.get(db);
  if (!l) {
    l = createLedger(db);
    ledgers.set(db, l);
  }
  return l;
}
