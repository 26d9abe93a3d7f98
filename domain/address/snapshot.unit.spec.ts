import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../messages';
import type { AddressEvent } from './events';
import { replay } from './replay';
import { addressSnapshots } from './snapshot';
import { ADDRESS_ID, archived, changed, corrected, restored, testMetadata } from './testing';
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
});
