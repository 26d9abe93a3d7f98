import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AddressCommand,
  type AddressEvent,
  type AddressState,
  addressLookbackSnapshots,
  addressSnapshots,
  addressStreamId,
  replay,
  replayWithLookback,
} from '@/domain/address';
import { decideOnEveryVersion } from '@/domain/address/testing';
import type { NewEvent } from '@/domain/event-store/event-store';
import { createLedger, type Ledger } from '@/lib/ledger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';

/*
 * Issue 14: readStream once returned at most 10,000 events, so an address past that saw a stale
 * version, retried 11 times and refused every command with a version conflict. A long history is
 * now read in pages, and after the first command from a snapshot plus the events after it.
 */
let db: TestDatabase;
let ledger: Ledger;
beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

const EVENTS = 50_000;
const CHUNK = 5_000;
const metadata = {
  actor: { id: 'u-1', name: 'Ida', role: 'operator' as const },
  correlationId: 'long',
  source: 'api' as const,
};

/** A registration in the first stored shape (read through the upcaster), then EVENTS - 1 changes. */
async function longHistory(addressId: string): Promise<string> {
  const streamId = addressStreamId(addressId);
  // Owner: a raw row of the old shape; the app's role may only append through the functions.
  await db.ownerPool.query(
    `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
     VALUES ($1, 1, $2, 'AddressRegistered', 1, $3, $4)`,
    [
      streamId,
      randomUUID(),
      { addressId, street: '1 Long Road', city: 'Bath', zip: '04530', countryCode: 'us' },
      { ...metadata, commandId: 'long-0' },
    ],
  );
  // Short transactions (one batch each): a long one would hold back gap-safe readers everywhere.
  for (let version = 1; version < EVENTS; version += CHUNK) {
    const events: NewEvent[] = Array.from({ length: Math.min(CHUNK, EVENTS - version) }, (_, i) => ({
      type: 'AddressChanged',
      schemaVersion: 1,
      data: { addressId, changes: { city: `City ${version + i + 1}` } },
      metadata: { ...metadata, commandId: `long-${version + i}` },
    }));
    const [outcome] = await ledger.store.appendBatch([{ streamId, expectedVersion: version, events }]);
    expect(outcome?.ok).toBe(true);
  }
  return streamId;
}

describe('an address with 50,000 events', () => {
  it('takes commands decided on the state a full replay gives, first from the events, then from a snapshot; a revert on the lookback of every version', {
    timeout: 240_000,
  }, async () => {
    const addressId = randomUUID();
    const streamId = await longHistory(addressId);
    expect(await ledger.store.streamVersion(streamId)).toBe(EVENTS);

    const change = (city: string) => ({
      type: 'ChangeAddress' as const,
      data: { addressId, changes: { city } },
      metadata: { ...metadata, commandId: randomUUID() },
    });
    let seen: AddressState | null = null;
    const first = await ledger.handle(change('Portland'), { check: (state) => (seen = state) });
    expect(first).toMatchObject({ version: EVENTS + 1, appended: 1, replayed: false });

    const { events, state } = await ledger.loadAddress(addressId);
    expect(events).toHaveLength(EVENTS + 1);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: EVENTS + 1 }, (_, i) => i + 1));
    expect(state.fields).toMatchObject({ line1: '1 Long Road', city: 'Portland', country: 'US' });
    expect(seen).toEqual(replay(events.slice(0, EVENTS)));

    // The first command folded every event, so it left a snapshot of the state it produced.
    const snapshotOf = (kind: string) =>
      waitFor(`the ${kind} snapshot of the long stream`, async () => {
        const { rows } = await db.pool.query<{ version: number; state: AddressState }>(
          'SELECT version, state FROM stream_snapshots WHERE stream_id = $1 AND kind = $2 AND shape = $3',
          [streamId, kind, addressSnapshots.shape],
        );
        return rows[0];
      });
    const snapshot = await snapshotOf(addressSnapshots.kind);
    expect(snapshot.version).toBe(EVENTS + 1);
    expect(snapshot.state).toEqual(state);

    // The state (and so its snapshot) keeps no history: its size does not grow with the stream.
    expect(snapshot.state).not.toHaveProperty('history');
    expect(JSON.stringify(snapshot.state).length).toBeLessThan(500);

    const second = await ledger.handle(change('Augusta'), { check: (s) => (seen = s) });
    expect(second).toMatchObject({ version: EVENTS + 2, appended: 1 });
    expect(seen).toEqual(state);

    // A correction of an old version is decided on the current state (snapshot + tail) ...
    const correction: AddressCommand = {
      type: 'CorrectAddress',
      data: { addressId, corrects: 2, fields: { postalCode: '04531' }, reason: 'typo' },
      metadata: { ...metadata, commandId: randomUUID() },
    };
    const third = await ledger.handle(correction, { check: (s) => (seen = s) });
    expect(third).toMatchObject({ version: EVENTS + 3, appended: 1 });
    const afterSecond = (await ledger.loadAddress(addressId)).events.slice(0, EVENTS + 2);
    expect(seen).toEqual(replay(afterSecond));

    // ... a revert on the lookback of every version, and both append what deciding on every
    // version's fields appends: the revert of version 2 conflicts with the city changes after it.
    const appendedBy = async (command: AddressCommand) => {
      const before = (await ledger.loadAddress(addressId)).events;
      const expected = decideOnEveryVersion(command, before).map((e) => [e.type, e.data]);
      await ledger.handle(command, { check: (s) => (seen = s) });
      // As the lookback snapshot keeps it (read from one, it has the last values of each field only).
      const asStored = (state: AddressState) => addressLookbackSnapshots.toJson(state);
      expect(asStored(seen!)).toEqual(asStored(replayWithLookback(before)));
      const after = (await ledger.loadAddress(addressId)).events.slice(before.length) as AddressEvent[];
      expect(after.map((e) => [e.type, e.data])).toEqual(expected);
      return expected;
    };
    const revert = (version: number): AddressCommand => ({
      type: 'RevertChange',
      data: { addressId, version, reason: 'wrong address' },
      metadata: { ...metadata, commandId: randomUUID() },
    });
    // Every later version changed the city (the 50,000 changes, then Portland and Augusta).
    const later = Array.from({ length: EVENTS }, (_, i) => i + 3);
    await expect(ledger.handle(revert(2))).rejects.toMatchObject({
      code: 'revert_conflict',
      conflicts: [{ field: 'city', versions: later }],
    });
    const reverted = (version: number, postalCode: string) => [
      [
        'AddressCorrected',
        { addressId, corrects: version, fields: { postalCode }, reason: 'wrong address', revertOf: version },
      ],
    ];
    expect(await appendedBy(revert(EVENTS + 3))).toEqual(reverted(EVENTS + 3, '04530'));
    expect((await ledger.loadAddress(addressId)).state).toMatchObject({
      version: EVENTS + 4,
      fields: { city: 'Augusta', postalCode: '04530' },
    });

    // That revert folded every event and left a snapshot with the lookback of every version, of
    // its own kind: the next revert reads it (and the events after it) and decides as on a full fold.
    const lookback = await snapshotOf(addressLookbackSnapshots.kind);
    expect(lookback.version).toBe(EVENTS + 4);
    // Versions as runs, and the last values only: not every version's fields (once ≈ 10 MB here).
    expect(JSON.stringify(lookback.state).length).toBeLessThan(5_000);
    expect(await appendedBy(revert(EVENTS + 4))).toEqual(reverted(EVENTS + 4, '04531'));
  });
});
