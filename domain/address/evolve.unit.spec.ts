import { describe, expect, it } from 'vitest';
import { UnknownVersion } from './errors';
import type { AddressEvent } from './events';
import { evolve, evolveAll } from './evolve';
import { replay, replayWithHistory, replayWithLookback, stateAt } from './replay';
import { initialState, initialStateWithHistory, initialStateWithLookback } from './state';
import { addressIdFromStream, addressStreamId, isAddressStreamId } from './stream';
import { ADDRESS_ID, archived, changed, corrected, registered, restored, usFields } from './testing';

describe('evolve', () => {
  it('makes the address exist, active, with its fields at version 1 after registration', () => {
    const state = evolve(initialState(), registered());
    expect(state).toEqual({
      exists: true,
      addressId: ADDRESS_ID,
      status: 'active',
      fields: usFields,
      version: 1,
    });
  });

  it('keeps no history in the state unless the fold started with one (its size does not grow with the stream)', () => {
    const many = [registered(), ...Array.from({ length: 100 }, (_, i) => changed({ city: i % 2 ? 'Bath' : 'Kent' }))];
    expect(replay(many)).not.toHaveProperty('history');
    const size = (events: AddressEvent[]) => JSON.stringify({ ...replay(events), version: 0 }).length;
    expect(size(many)).toBe(size(many.slice(0, 3)));
    expect(evolve(initialStateWithHistory(), registered()).history).toEqual([
      { version: 1, type: 'AddressRegistered', fieldsAfter: usFields, status: 'active' },
    ]);
  });

  it('applies changed values and removes optional fields set to null', () => {
    const state = replay([registered(), changed({ city: 'Chicago', region: null, line2: 'Apt 4' })]);
    expect(state.fields).toEqual({
      line1: '12 Main Street',
      line2: 'Apt 4',
      city: 'Chicago',
      postalCode: '62701',
      country: 'US',
    });
    expect(state.fields).not.toHaveProperty('region');
  });

  it('applies corrections the same way as changes', () => {
    expect(replay([registered(), corrected(1, { postalCode: '62702' })]).fields?.postalCode).toBe('62702');
  });

  it('flips the status on archive and restore without touching the fields', () => {
    const archivedState = replay([registered(), archived()]);
    expect(archivedState.status).toBe('archived');
    expect(archivedState.fields).toEqual(usFields);
    expect(replay([registered(), archived(), restored()]).status).toBe('active');
  });

  it('keeps one history entry per version with the fields and status after it', () => {
    const state = replayWithHistory([registered(), changed({ city: 'Chicago' }), archived()]);
    expect(state.version).toBe(3);
    expect(state.history.map((h) => [h.version, h.type, h.fieldsAfter?.city, h.status])).toEqual([
      [1, 'AddressRegistered', 'Springfield', 'active'],
      [2, 'AddressChanged', 'Chicago', 'active'],
      [3, 'AddressArchived', 'Chicago', 'archived'],
    ]);
  });

  it('keeps in the lookback each version under its type, and under each field it changed with the value before', () => {
    const { lookback } = replayWithLookback([
      changed({ city: 'Boston' }),
      registered(),
      changed({ city: 'Chicago', region: null }),
      archived(),
      corrected(3, { region: 'IL', line2: 'Apt 4' }),
    ]);
    expect(lookback.versionsOf).toEqual({
      AddressRegistered: [[2, 2]],
      AddressChanged: [
        [1, 1],
        [3, 3],
      ],
      AddressCorrected: [[5, 5]],
      AddressArchived: [[4, 4]],
      AddressRestored: [],
    });
    // A change before the registration changes nothing; the registration sets every field it has.
    expect(lookback.changes).toMatchObject({
      line1: { versions: [[2, 2]], before: [null] },
      line2: { versions: [[5, 5]], before: [null] },
      city: { versions: [[2, 3]], before: [null, 'Springfield'] },
      region: {
        versions: [
          [2, 3],
          [5, 5],
        ],
        before: [null, 'IL', null],
      },
      owner: { versions: [], before: [] },
    });
    expect(initialStateWithLookback().lookback.changes.city).toEqual({ versions: [], before: [] });
  });

  it('does not mutate the state it is given', () => {
    const before = replay([registered()]);
    const snapshot = structuredClone(before);
    evolve(before, changed({ city: 'Chicago' }));
    expect(before).toEqual(snapshot);
  });

  it('still counts a version for an event that arrives before registration, without throwing', () => {
    const state = evolve(initialState(), changed({ city: 'Chicago' }));
    expect(state.version).toBe(1);
    expect(state.fields).toBeNull();
  });
});

describe('stateAt', () => {
  const events: AddressEvent[] = [
    { ...registered(), metadata: { ...registered().metadata, recordedAt: '2026-01-01T10:00:00.000Z' } },
    {
      ...changed({ city: 'Chicago' }),
      metadata: { ...changed({}).metadata, recordedAt: '2026-02-01T10:00:00.000Z' },
    },
    { ...archived(), metadata: { ...archived().metadata, recordedAt: '2026-03-01T10:00:00.000Z' } },
  ];

  it('returns the state as it was after a given version', () => {
    const state = stateAt(events, { version: 2 });
    expect(state.version).toBe(2);
    expect(state.fields?.city).toBe('Chicago');
    expect(state.status).toBe('active');
  });

  it('returns the initial state at version 0 and the current state without options', () => {
    expect(stateAt(events, { version: 0 })).toEqual(initialState());
    expect(stateAt(events)).toEqual(replay(events));
  });

  it('refuses a version the stream does not have', () => {
    expect(() => stateAt(events, { version: 4 })).toThrow(UnknownVersion);
    expect(() => stateAt(events, { version: -1 })).toThrow(UnknownVersion);
  });

  it('returns the state as it was at a point in time, using recordedAt', () => {
    expect(stateAt(events, { at: '2026-02-15T00:00:00Z' }).version).toBe(2);
    expect(stateAt(events, { at: new Date('2026-02-01T10:00:00.000Z') }).version).toBe(2);
    expect(stateAt(events, { at: '2025-12-31T00:00:00Z' }).exists).toBe(false);
  });

  it('applies both limits when both a version and a time are given', () => {
    expect(stateAt(events, { version: 1, at: '2026-12-31T00:00:00Z' }).version).toBe(1);
  });

  it('refuses an invalid timestamp', () => {
    expect(() => stateAt(events, { at: 'yesterday' })).toThrow(RangeError);
  });
});

describe('stream ids', () => {
  it('builds address-<id> and reads the id back', () => {
    const streamId = addressStreamId(ADDRESS_ID);
    expect(streamId).toBe(`address-${ADDRESS_ID}`);
    expect(addressIdFromStream(streamId)).toBe(ADDRESS_ID);
    expect(isAddressStreamId(streamId)).toBe(true);
  });

  it('refuses a stream id that is not an address stream', () => {
    expect(isAddressStreamId('user-1')).toBe(false);
    expect(() => addressIdFromStream('user-1')).toThrow(/not an address stream/);
    expect(() => addressStreamId('')).toThrow();
  });
});

describe('folding many events (replay, stateAt, evolveAll)', () => {
  /**
   * Counts walks over long arrays (1,000 elements or more) through the iterator protocol (spread,
   * Array.from, for…of): a fold that copies the history per event walks it once per event. With
   * the iterator replaced, V8 leaves its fast path and every spread calls it, so each is counted.
   */
  function longArrayWalksDuring(work: () => void): number {
    const original = Array.prototype[Symbol.iterator];
    let walks = 0;
    Array.prototype[Symbol.iterator] = function (this: unknown[]) {
      if (this.length >= 1_000) walks++;
      return original.call(this);
    };
    try {
      work();
    } finally {
      Array.prototype[Symbol.iterator] = original;
    }
    return walks;
  }
  const history = (n: number) => [registered(), ...Array.from({ length: n }, (_, i) => changed({ city: `C${i}` }))];

  it('walks a 2,000-event history once, not once per event (no copy of the history per event)', () => {
    const events = history(2_000);
    // A revert's fold starts from a lookback snapshot that is already long.
    const halfway = replayWithLookback(events.slice(0, 1_000));
    const tail = events.slice(1_000);
    const folds = [
      () => replay(events),
      () => replayWithHistory(events),
      () => stateAt(events, { version: 1_500 }),
      () => evolveAll(initialState(), events),
      () => evolveAll(initialStateWithHistory(), events),
      () => replayWithLookback(events),
      () => evolveAll(halfway, tail),
    ];
    for (const fold of folds) {
      // The events themselves, once, by the fold's own loop; a history is grown in place.
      expect(longArrayWalksDuring(fold)).toBeLessThanOrEqual(1);
      expect(fold().history?.length ?? fold().version).toBe(fold().version);
    }
  });

  it('gives what evolve one event at a time gives, and leaves the state it started from unchanged', () => {
    const events = history(50);
    const starts = [replay, replayWithHistory, replayWithLookback].map((fold) => fold(events.slice(0, 10)));
    for (const start of starts) {
      const copy = structuredClone(start);
      expect(evolveAll(start, events.slice(10))).toEqual(events.slice(10).reduce(evolve, start));
      expect(start).toEqual(copy);
    }
  });
});
