import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import type { NewEvent } from './event-store';
import { createEventStore, type EventStore } from './postgres-event-store';

/*
 * The rows the statement trigger on `events` derives from each INSERT (events_derive, migration
 * 20261204020000): the stream's head and each event's audit city, computed once per statement
 * from all of its rows. The duplicate guard, the third, has its own file (address-keys.int.spec.ts).
 */

let db: TestDatabase;
let store: EventStore;
beforeAll(async () => {
  db = await createTestDatabase();
  store = createEventStore(db.prisma, { pool: db.pool });
});
afterAll(async () => db?.drop());

const metadata = { actor: { id: 'u-1', name: 'Ida', role: 'operator' as const }, source: 'api' as const };
const registered = (addressId: string, city: string): NewEvent => ({
  type: 'AddressRegistered',
  schemaVersion: 2,
  data: { addressId, line1: `${randomUUID()} Main Street`, city, postalCode: '04101', country: 'US' },
  metadata: { ...metadata, commandId: randomUUID(), correlationId: 'c' },
});
const changed = (addressId: string, changes: Record<string, unknown>): NewEvent => ({
  type: 'AddressChanged',
  schemaVersion: 1,
  data: { addressId, changes },
  metadata: { ...metadata, commandId: randomUUID(), correlationId: 'c' },
});
const corrected = (addressId: string, fields: Record<string, unknown>): NewEvent => ({
  type: 'AddressCorrected',
  schemaVersion: 1,
  data: { addressId, corrects: 1, fields, reason: 'typo' },
  metadata: { ...metadata, commandId: randomUUID(), correlationId: 'c' },
});

/** The city each event of the stream is in, by version, as audit_event_cities has it. */
async function cities(streamId: string) {
  const { rows } = await db.pool.query<{ v: number; city: string | null }>(
    `SELECT e.stream_version AS v, a.city FROM events e LEFT JOIN audit_event_cities a ON a.position = e.position
      WHERE e.stream_id = $1 ORDER BY e.stream_version`,
    [streamId],
  );
  return rows.map((r) => r.city);
}

describe('audit cities, one statement at a time', () => {
  it('gives every event of a many-event append the city its address had once it applied', async () => {
    const id = randomUUID();
    const streamId = `address-${id}`;
    await store.append(
      streamId,
      [
        registered(id, 'Portland'),
        changed(id, { owner: 'o-1' }),
        changed(id, { city: 'BANGOR' }),
        changed(id, { owner: 'o-2' }),
        corrected(id, { city: 'Auburn' }),
        changed(id, { owner: 'o-3' }),
      ],
      { expectedVersion: 0 },
    );
    expect(await cities(streamId)).toEqual(['portland', 'portland', 'bangor', 'bangor', 'auburn', 'auburn']);
    // A later append starts from the city stored for the stream; a setter inside it takes over.
    await store.append(streamId, [changed(id, { owner: 'o-4' }), changed(id, { city: 'Bath' }), changed(id, {})], {
      expectedVersion: 6,
    });
    expect((await cities(streamId)).slice(6)).toEqual(['auburn', 'bath', 'bath']);
  });

  it('keeps the streams of one batch apart', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await store.append(`address-${a}`, [registered(a, 'Kittery')], { expectedVersion: 0 });
    await store.append(`address-${b}`, [registered(b, 'Saco')], { expectedVersion: 0 });
    await store.appendBatch([
      {
        streamId: `address-${a}`,
        expectedVersion: 1,
        events: [changed(a, { owner: 'x' }), changed(a, { city: 'York' })],
      },
      { streamId: `address-${b}`, expectedVersion: 1, events: [changed(b, { owner: 'y' })] },
    ]);
    expect(await cities(`address-${a}`)).toEqual(['kittery', 'kittery', 'york']);
    expect(await cities(`address-${b}`)).toEqual(['saco', 'saco']);
  });

  it('records no city for an event of a stream that never had one', async () => {
    const streamId = `test-${randomUUID()}`;
    await store.append(streamId, [changed('x', { owner: 'o' }), changed('x', { owner: 'p' })], { expectedVersion: 0 });
    expect(await cities(streamId)).toEqual([null, null]);
  });
});

describe('stream heads', () => {
  it('moves to the last event of each stream of a statement, with its hash', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await store.appendBatch([
      { streamId: `address-${a}`, expectedVersion: 0, events: [registered(a, 'Wells'), changed(a, { owner: 'q' })] },
      { streamId: `address-${b}`, expectedVersion: 0, events: [registered(b, 'Wells')] },
    ]);
    const { rows } = await db.pool.query(
      `SELECT h.stream_id, h.version, h.hash = e.hash AS same_hash FROM stream_heads h
         JOIN events e ON e.stream_id = h.stream_id AND e.stream_version = h.version
        WHERE h.stream_id = ANY($1) ORDER BY h.version DESC`,
      [[`address-${a}`, `address-${b}`]],
    );
    expect(rows).toEqual([
      { stream_id: `address-${a}`, version: 2, same_hash: true },
      { stream_id: `address-${b}`, version: 1, same_hash: true },
    ]);
  });
});
