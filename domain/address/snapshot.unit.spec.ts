import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../messages';
import { canDecide, decide } from './decide';
import { DomainError } from './errors';
import type { AddressEvent } from './events';
import { replay, replayWithHistory, replayWithLookback } from './replay';
import { addressLookbackSnapshots, addressSnapshots } from './snapshot';
import { ADDRESS_STATE_SHAPE } from './state';
import {
  ADDRESS_ID,
  archived,
  changeAddress,
  changed,
  correctAddress,
  corrected,
  decideOnEveryVersion,
  registered,
  restored,
  revertChange,
  stateToDecide,
  testMetadata,
} from './testing';
import { upcastRecorded } from './upcasters';

/*
 * A snapshot is the state folded from upcast events, stored as JSON (stream_snapshots.state);
 * the state read back from it plus the events after it must be the state of a full replay.
 */
const city = fc.constantFrom('Springfield', 'Chicago', 'Berlin');
const line1 = fc.constantFrom('1 Main St', '2 Elm St');

/** The registration as stored: the first shape (schemaVersion 1, before the upcaster) or the current one. */
const registration = fc.oneof(
  fc
    .record({ street: line1, city, zip: fc.constantFrom('62701', '10115'), countryCode: fc.constantFrom('us', 'DE') })
    .map((v1) => ({ type: 'AddressRegistered', schemaVersion: 1, data: { addressId: ADDRESS_ID, ...v1 } })),
  fc
    .record({ line1, city, postalCode: fc.constantFrom('62701', '10115'), country: fc.constantFrom('US', 'DE') })
    .map((fields) => ({ type: 'AddressRegistered', schemaVersion: 2, data: { addressId: ADDRESS_ID, ...fields } })),
);
const later = fc.oneof(
  city.map((c) => changed({ city: c })),
  line1.map((l) => changed({ line1: l, line2: null })),
  fc.tuple(fc.integer({ min: 1, max: 4 }), city).map(([v, c]) => corrected(v, { city: c })),
  fc.constant(archived()),
  fc.constant(restored()),
);

const stored = fc.tuple(registration, fc.array(later, { maxLength: 40 })).map(([first, rest]) =>
  [first, ...rest.map((e) => ({ type: e.type, schemaVersion: 1, data: e.data }))].map(
    (raw, i): RecordedEvent => ({
      ...raw,
      eventId: `e-${i + 1}`,
      streamId: `address-${ADDRESS_ID}`,
      streamVersion: i + 1,
      position: String(i + 1),
      recordedAt: '2026-01-01T00:00:00.000Z',
      metadata: { ...testMetadata, recordedAt: '2026-01-01T00:00:00.000Z' },
    }),
  ),
);

describe('address snapshots (property)', () => {
  it('snapshot at any version + the events after it == a full replay, across the upcasters', () => {
    fc.assert(
      fc.property(stored, fc.nat(), (raw, cut) => {
        const events: RecordedEvent<AddressEvent>[] = raw.map(upcastRecorded);
        const at = cut % (events.length + 1);
        const json = JSON.parse(JSON.stringify(addressSnapshots.toJson(replay(events.slice(0, at)))));
        const fromSnapshot = replay(events.slice(at), addressSnapshots.fromJson(json));
        expect(fromSnapshot).toEqual(replay(events));
        expect(fromSnapshot.version).toBe(events.length);
      }),
      { numRuns: 300 },
    );
  });

  it('are of the layout without history (shape 2): the same size however long the stream', () => {
    expect(addressSnapshots.shape).toBe(ADDRESS_STATE_SHAPE);
    expect(ADDRESS_STATE_SHAPE).toBe(2);
    const events = [registered(), ...Array.from({ length: 2_000 }, (_, i) => changed({ city: `C${i % 10}` }))];
    const json = addressSnapshots.toJson({
      ...replayWithHistory(events),
      lookback: replayWithLookback(events).lookback,
    });
    expect(json).not.toHaveProperty('history');
    expect(json).not.toHaveProperty('lookback');
    expect(JSON.stringify(json).length).toBeLessThan(400);
  });

  it('for reverts keep every version as runs and the last values of each field: a few kB however long the stream', () => {
    // A revert's snapshot once held every version's fields (≈ 200 bytes a version, 2 MB at 10,000).
    const events = [registered(), ...Array.from({ length: 2_000 }, (_, i) => changed({ city: `City ${i}` }))];
    const state = replayWithLookback(events);
    const json = addressLookbackSnapshots.toJson({ ...state, history: replayWithHistory(events).history });
    expect(json).not.toHaveProperty('history');
    expect(json).toMatchObject({
      lookback: { versionsOf: { AddressChanged: '2-2001' }, changes: { city: { versions: '1-2001' } } },
    });
    expect(JSON.stringify(json).length).toBeLessThan(3_000);
    const read = addressLookbackSnapshots.fromJson(JSON.parse(JSON.stringify(json)));
    expect(read.lookback!.versionsOf).toEqual(state.lookback.versionsOf);
    expect(read.lookback!.changes.city.versions).toEqual(state.lookback.changes.city.versions);
    expect(read.lookback!.changes.city.before).toEqual(state.lookback.changes.city.before.slice(-100));
    expect({ ...read, lookback: undefined }).toEqual({ ...state, lookback: undefined });
    // The last 100 changes of the city can be reverted on it; an older one needs every event.
    expect(canDecide(revertChange(2001 - 99), read)).toBe(true);
    expect(canDecide(revertChange(2001 - 100), read)).toBe(false);
    expect(canDecide(revertChange(2001 - 100), state)).toBe(true);
  });

  it('give the decisions deciding on every version gives, for changes, corrections and reverts (property)', () => {
    const command = fc.oneof(
      city.map((c) => changeAddress({ city: c })),
      fc.tuple(fc.integer({ min: 0, max: 12 }), city).map(([v, c]) => correctAddress(v, { city: c })),
      fc.integer({ min: 0, max: 12 }).map((v) => revertChange(v)),
    );
    const outcome = (run: () => AddressEvent[]) => {
      try {
        return { events: run() };
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return { refused: [error.code, error.details] };
      }
    };
    fc.assert(
      fc.property(stored, fc.nat(), command, (raw, cut, c) => {
        const events: RecordedEvent<AddressEvent>[] = raw.map(upcastRecorded);
        const at = cut % (events.length + 1);
        const json = JSON.parse(JSON.stringify(addressSnapshots.toJson(replay(events.slice(0, at)))));
        const current = replay(events.slice(at), addressSnapshots.fromJson(json));
        expect(outcome(() => decide(c, stateToDecide(c, events, current)))).toEqual(
          outcome(() => decideOnEveryVersion(c, events)),
        );
      }),
      { numRuns: 300 },
    );
  });
});
