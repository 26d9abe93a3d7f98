import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AddressEvent, type AddressFieldChanges, addressStreamId, replay } from '@/domain/address';
import type { RecordedEvent } from '@/domain/messages';
import { type AddressDoc, foldBatch, projectAddress, replayAddresses } from './projection';

const ID = '6f1c1f9e-8a51-4c39-9d7e-2f4f2b8f0a11';
const actor = { id: 'u-7', name: 'Ola Operator', role: 'operator' as const };

function recorded(events: AddressEvent[], id = ID): RecordedEvent[] {
  return events.map((e, i) => ({
    ...e,
    eventId: `e-${id}-${i + 1}`,
    streamId: addressStreamId(id),
    streamVersion: i + 1,
    position: String(1_000 + i),
    schemaVersion: 1,
    recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    metadata: {
      actor,
      commandId: `c-${i}`,
      correlationId: `c-${i}`,
      source: 'api',
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    },
  }));
}

const meta = { actor, commandId: 'c', correlationId: 'c', source: 'api' as const };
const registered = (extra: Partial<Record<string, string>> = {}): AddressEvent => ({
  type: 'AddressRegistered',
  data: { addressId: ID, line1: '12 Chestnut Street', city: 'Portland', postalCode: '04101', country: 'US', ...extra },
  metadata: meta,
});
const changed = (changes: AddressFieldChanges): AddressEvent => ({
  type: 'AddressChanged',
  data: { addressId: ID, changes },
  metadata: meta,
});

function fold(events: RecordedEvent[]): AddressDoc | null {
  return events.reduce<AddressDoc | null>((doc, e) => projectAddress(doc, e), null);
}

describe('projectAddress', () => {
  it('creates the document on registration with the database time and the actor', () => {
    const doc = fold(recorded([registered({ region: 'ME' })]));
    expect(doc).toMatchObject({
      id: ID,
      version: 1,
      status: 'active',
      line1: '12 Chestnut Street',
      line2: null,
      region: 'ME',
      owner: null,
      registeredAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      lastEventType: 'AddressRegistered',
      lastActor: actor,
    });
  });

  it('applies changes and corrections, where null clears an optional field', () => {
    const doc = fold(
      recorded([
        registered({ line2: 'Apt 4', owner: 'ACME' }),
        changed({ line1: '14 Chestnut Street', line2: null }),
        {
          type: 'AddressCorrected',
          data: { addressId: ID, corrects: 1, fields: { owner: null, city: 'South Portland' }, reason: 'typo' },
          metadata: meta,
        },
      ]),
    );
    expect(doc).toMatchObject({
      version: 3,
      line1: '14 Chestnut Street',
      line2: null,
      owner: null,
      city: 'South Portland',
      registeredAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:02:00.000Z',
      lastEventType: 'AddressCorrected',
    });
  });

  it('tracks archiving with its reason and restoring', () => {
    const archived = fold(
      recorded([
        registered(),
        { type: 'AddressArchived', data: { addressId: ID, reason: 'demolished' }, metadata: meta },
      ]),
    );
    expect(archived).toMatchObject({ status: 'archived', archivedReason: 'demolished', version: 2 });
    const restored = fold(
      recorded([
        registered(),
        { type: 'AddressArchived', data: { addressId: ID, reason: 'demolished' }, metadata: meta },
        { type: 'AddressRestored', data: { addressId: ID }, metadata: meta },
      ]),
    );
    expect(restored).toMatchObject({ status: 'active', archivedReason: null, version: 3 });
  });

  it('ignores an event whose version is not newer than the document, returning the same object', () => {
    const events = recorded([registered(), changed({ city: 'Bangor' })]);
    const doc = fold(events)!;
    expect(projectAddress(doc, events[1]!)).toBe(doc);
    expect(projectAddress(doc, events[0]!)).toBe(doc);
  });

  it('skips an event type it does not know yet without failing, but counts its version', () => {
    const events = recorded([registered()]);
    const future = { ...recorded([registered(), registered()])[1]!, type: 'AddressGeocoded', data: { lat: 1 } };
    const doc = projectAddress(fold(events), future as RecordedEvent);
    expect(doc).toMatchObject({ version: 2, line1: '12 Chestnut Street', lastEventType: 'AddressRegistered' });
  });

  it('ignores events of other streams and changes to an address it never saw registered', () => {
    const other = { ...recorded([registered()])[0]!, streamId: 'user-1' };
    expect(projectAddress(null, other)).toBeNull();
    expect(projectAddress(null, recorded([registered(), changed({ city: 'X' })])[1]!)).toBeNull();
  });
});

// Random histories: the read model must agree with the domain's own fold, and delivering events
// more than once (at-least-once, in order per stream) must not change the outcome.
const text = fc.constantFrom('Oak Street', 'Main St', 'Rue de l’Église', 'Hauptstraße 5', '7');
const changesArb: fc.Arbitrary<AddressFieldChanges> = fc
  .record(
    {
      line1: text,
      line2: fc.option(text, { nil: null }),
      city: fc.constantFrom('Portland', 'Bangor', 'Zürich'),
      region: fc.option(fc.constantFrom('ME', 'NH'), { nil: null }),
      owner: fc.option(fc.constantFrom('ACME', 'Jo'), { nil: null }),
    },
    { requiredKeys: [] },
  )
  .filter((c) => Object.keys(c).length > 0);
const eventArb: fc.Arbitrary<AddressEvent> = fc.oneof(
  changesArb.map(changed),
  changesArb.map(
    (fields): AddressEvent => ({
      type: 'AddressCorrected',
      data: { addressId: ID, corrects: 1, fields, reason: 'r' },
      metadata: meta,
    }),
  ),
  fc.constant<AddressEvent>({ type: 'AddressArchived', data: { addressId: ID, reason: 'r' }, metadata: meta }),
  fc.constant<AddressEvent>({ type: 'AddressRestored', data: { addressId: ID }, metadata: meta }),
);
const historyArb = fc.array(eventArb, { maxLength: 12 }).map((rest) => [registered({ owner: 'Start' }), ...rest]);

describe('projectAddress over random histories', () => {
  it('agrees with the domain fold on fields, status and version', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const doc = fold(recorded(history))!;
        const state = replay(history);
        expect(doc.version).toBe(state.version);
        expect(doc.status).toBe(state.status);
        const f = state.fields!;
        expect([doc.line1, doc.line2, doc.city, doc.region, doc.owner]).toEqual([
          f.line1,
          f.line2 ?? null,
          f.city,
          f.region ?? null,
          f.owner ?? null,
        ]);
      }),
    );
  });

  it('gives the same document when any prefix of the events is delivered again', () => {
    fc.assert(
      fc.property(historyArb, fc.array(fc.nat(), { maxLength: 6 }), (history, redeliveries) => {
        const events = recorded(history);
        let delivered = [...events];
        for (const r of redeliveries) {
          // A crash after writing but before the checkpoint: the batch is read again from its start.
          const cut = r % (events.length + 1);
          delivered = [...delivered.slice(0, cut), ...events.slice(0, cut), ...delivered.slice(cut)];
        }
        expect(fold(delivered)).toEqual(fold(events));
      }),
    );
  });

  it('builds the same documents whatever the interleaving of streams', () => {
    fc.assert(
      fc.property(historyArb, historyArb, fc.array(fc.boolean(), { maxLength: 30 }), (a, b, picks) => {
        const ea = recorded(a, 'a');
        const eb = recorded(b, 'b').map((e) => ({ ...e, data: { ...(e.data as object), addressId: 'b' } }));
        const ra = ea.map((e) => ({ ...e, data: { ...(e.data as object), addressId: 'a' } }));
        const merged: RecordedEvent[] = [];
        let i = 0;
        let j = 0;
        for (const p of picks) {
          if (p && i < ra.length) merged.push(ra[i++]!);
          else if (j < eb.length) merged.push(eb[j++]!);
        }
        merged.push(...ra.slice(i), ...eb.slice(j));
        const together = replayAddresses(merged);
        const apart = replayAddresses([...ra, ...eb]);
        expect(together).toEqual(apart);
      }),
    );
  });
});

describe('foldBatch', () => {
  const OTHER = '0b5e1c52-3f0a-4d7e-9a55-0c1f7e1d2a33';
  const mine = recorded([registered(), changed({ city: 'Bangor' }), changed({ city: 'Bath' })]);
  const theirs = recorded([registered({ addressId: OTHER }), changed({ city: 'Lewiston' })], OTHER);
  const load = async () => new Map<string, AddressDoc>();

  it('parks the stream of an event it cannot read and applies every other stream', async () => {
    const poison = mine[1]!.eventId;
    const result = await foldBatch([mine[0]!, theirs[0]!, mine[1]!, theirs[1]!, mine[2]!], load, {
      upcast: (e) => {
        if (e.eventId === poison) throw new Error('schemaVersion 99 is newer than this code understands');
        return e;
      },
    });
    expect(result.parked).toEqual([
      {
        streamId: addressStreamId(ID),
        eventId: poison,
        type: 'AddressChanged',
        position: mine[1]!.position,
        streamVersion: 2,
        error: 'Error: schemaVersion 99 is newer than this code understands',
      },
    ]);
    const docs = new Map(result.changed.map((d) => [d.id, d]));
    // The later change of the parked stream waits: the document stays at the version before.
    expect(docs.get(ID)).toMatchObject({ version: 1, city: 'Portland' });
    expect(docs.get(OTHER)).toMatchObject({ version: 2, city: 'Lewiston' });
  });

  it('holds the events of streams already parked and counts a skipped event for the version only', async () => {
    const held = await foldBatch([...mine, ...theirs], load, {
      upcast: (e) => e,
      held: new Set([addressStreamId(ID)]),
    });
    expect(held.changed.map((d) => d.id)).toEqual([OTHER]);
    const skipped = await foldBatch(mine, load, { upcast: (e) => e, skipped: new Set([mine[2]!.eventId]) });
    expect(skipped.changed[0]).toMatchObject({ version: 3, city: 'Bangor', lastPosition: mine[2]!.position });
    expect(skipped.parked).toEqual([]);
  });

  it('loads only the streams whose first event in the batch is not their registration', async () => {
    const asked: string[][] = [];
    const stored = replayAddresses(mine.slice(0, 1));
    const result = await foldBatch(
      [...theirs, ...mine.slice(1)],
      async (ids) => {
        asked.push(ids);
        return new Map([...stored].filter(([id]) => ids.includes(id)));
      },
      { upcast: (e) => e },
    );
    // OTHER's whole history is in the batch: folded from nothing, with nothing read for it.
    expect(asked).toEqual([[ID]]);
    expect(result.changed.map((d) => [d.id, d.version, d.city])).toEqual([
      [OTHER, 2, 'Lewiston'],
      [ID, 3, 'Bath'],
    ]);
  });
});
