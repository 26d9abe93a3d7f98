import { randomUUID } from 'node:crypto';
import type pg from 'pg';
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

/** What the derived tables hold for one stream, ids left out, so two streams' rows compare. */
async function derivedRows(q: Pick<pg.ClientBase, 'query'>, streamId: string) {
  const { rows } = await q.query(
    `SELECT h.version AS head, h.hash = e.hash AS head_hash, c.city, c.stream_version AS city_version,
            k.line1, k.line2, k.postal_code, k.country, k.owner, k.active,
            k.key = address_key(k.line1, k.line2, k.postal_code, k.country, k.owner) AS key_matches
       FROM events e
       LEFT JOIN stream_heads h ON h.stream_id = e.stream_id
       LEFT JOIN audit_event_cities c ON c.position = e.position
       LEFT JOIN address_keys k ON k.stream_id = e.stream_id
      WHERE e.stream_id = $1`,
    [streamId],
  );
  return rows;
}

/**
 * Registrations written by one INSERT of the owner, so the trigger derives their rows (its
 * branch for a statement of registrations only, which append_events and append_events_batch
 * replace with their own writes). In `q`'s transaction when given.
 */
async function insertViaTrigger(registrations: Array<{ streamId: string; event: NewEvent }>, q?: pg.ClientBase) {
  const values = registrations.flatMap(({ streamId, event }) => [
    streamId,
    randomUUID(),
    event.type,
    event.schemaVersion,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
  ]);
  const rows = registrations.map(
    (_, i) =>
      `($${i * 6 + 1}, 1, $${i * 6 + 2}::uuid, $${i * 6 + 3}, $${i * 6 + 4}::int, $${i * 6 + 5}::jsonb, $${i * 6 + 6}::jsonb)`,
  );
  await (q ?? db.ownerPool).query(
    `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata) VALUES ${rows.join(', ')}`,
    values,
  );
}
const appendViaTrigger = (streamId: string, event: NewEvent) => insertViaTrigger([{ streamId, event }]);

describe('a registration appended on its own (append_events writes its rows, migration 20261205010000)', () => {
  const sameAddress = (addressId: string, line1: string): NewEvent => {
    const event = registered(addressId, 'Old Orchard Beach');
    return { ...event, data: { ...(event.data as object), line1, line2: 'Unit 4', owner: 'o-9' } };
  };

  it('writes the rows the trigger writes for it, without the trigger', async () => {
    const line1 = `${randomUUID()} Grand Avenue`;
    // The trigger's rows for the same registration; archived after, so the key is free again.
    const [viaTrigger, alone] = [randomUUID(), randomUUID()];
    await appendViaTrigger(`address-${viaTrigger}`, sameAddress(viaTrigger, line1));
    const expected = await derivedRows(db.pool, `address-${viaTrigger}`);
    await store.append(
      `address-${viaTrigger}`,
      [{ ...changed(viaTrigger, {}), type: 'AddressArchived', data: { addressId: viaTrigger, reason: 'moved' } }],
      { expectedVersion: 1 },
    );
    expect(expected).toEqual([
      expect.objectContaining({ head: 1, head_hash: true, city: 'old orchard beach', line1, active: true }),
    ]);

    // With the trigger off (in a transaction rolled back after), only append_events can write them.
    const owner = await db.ownerPool.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('ALTER TABLE events DISABLE TRIGGER events_derive');
      const payload = [{ eventId: randomUUID(), ...sameAddress(alone, line1) }];
      const { rows } = await owner.query<{ outcome: string }>(
        `SELECT outcome FROM append_events($1, 0, $2::jsonb, $3, 'h', 'ledger_events')`,
        [`address-${alone}`, JSON.stringify(payload), randomUUID()],
      );
      expect(rows[0]!.outcome).toBe('appended');
      expect(await derivedRows(owner, `address-${alone}`)).toEqual(expected);
    } finally {
      await owner.query('ROLLBACK');
      owner.release();
    }
  });

  it('still leaves every other append to the trigger when a runtime session sets ledger.derived', async () => {
    const [held, other] = [randomUUID(), randomUUID()];
    const line1 = `${randomUUID()} Pleasant Street`;
    await store.append(`address-${held}`, [sameAddress(held, line1)], { expectedVersion: 0 });
    await store.append(`address-${other}`, [registered(other, 'Old Orchard Beach')], { expectedVersion: 0 });
    const refused = async (sql: string, params: unknown[]) => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('ledger.derived', 'on', true)`);
        return await client.query(sql, params).then(
          () => null,
          (error: { message: string }) => error.message,
        );
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    // A change onto the held key, and a batch registering it again: the guard refuses both.
    const change = [
      { eventId: randomUUID(), ...changed(other, { line1, line2: 'Unit 4', city: 'Old Orchard Beach', owner: 'o-9' }) },
    ];
    expect(
      await refused(`SELECT outcome FROM append_events($1, 1, $2::jsonb, NULL, NULL, 'ledger_events')`, [
        `address-${other}`,
        JSON.stringify(change),
      ]),
    ).toBe(`duplicate_address address-${held}`);
    const again = randomUUID();
    const batch = [
      {
        streamId: `address-${again}`,
        expectedVersion: 0,
        events: [{ eventId: randomUUID(), ...sameAddress(again, line1) }],
      },
    ];
    expect(
      await refused(`SELECT * FROM append_events_batch($1::jsonb, 'ledger_events')`, [JSON.stringify(batch)]),
    ).toBe(`duplicate_address address-${held}`);
  });
});

describe('a batch of registrations (append_events_batch writes their rows, migration 20261207000000)', () => {
  const withOwner = (addressId: string, city: string, line1: string): NewEvent => {
    const event = registered(addressId, city);
    return { ...event, data: { ...(event.data as object), line1, line2: 'Apt 2', owner: 'o-7' } };
  };
  const archive = (addressId: string) =>
    store.append(
      `address-${addressId}`,
      [{ ...changed(addressId, {}), type: 'AddressArchived', data: { addressId, reason: 'moved' } }],
      { expectedVersion: 1 },
    );

  it('writes the rows the trigger writes for each of them, without the trigger', async () => {
    const lines = [`${randomUUID()} Ocean Avenue`, `${randomUUID()} Beach Street`];
    const cities = ['Kennebunkport', 'BIDDEFORD'];
    // The trigger's rows for each, archived after so their keys are free again.
    const expected: unknown[] = [];
    for (const [i, line1] of lines.entries()) {
      const id = randomUUID();
      await appendViaTrigger(`address-${id}`, withOwner(id, cities[i]!, line1));
      expected.push(await derivedRows(db.pool, `address-${id}`));
      await archive(id);
    }
    expect(expected).toEqual([
      [expect.objectContaining({ head: 1, head_hash: true, city: 'kennebunkport', active: true, key_matches: true })],
      [expect.objectContaining({ head: 1, head_hash: true, city: 'biddeford', active: true, key_matches: true })],
    ]);

    // With the trigger off (in a transaction rolled back after), only append_events_batch can write them.
    const owner = await db.ownerPool.connect();
    try {
      await owner.query('BEGIN');
      await owner.query('ALTER TABLE events DISABLE TRIGGER events_derive');
      const ids = [randomUUID(), randomUUID()];
      const items = ids.map((id, i) => ({
        streamId: `address-${id}`,
        expectedVersion: 0,
        events: [{ eventId: randomUUID(), ...withOwner(id, cities[i]!, lines[i]!) }],
        commandId: randomUUID(),
        requestHash: 'h',
      }));
      const { rows } = await owner.query<{ ord: number; outcome: string; version: number }>(
        `SELECT ord, outcome, version FROM append_events_batch($1::jsonb, 'ledger_events')`,
        [JSON.stringify(items)],
      );
      expect(rows).toEqual([
        { ord: 1, outcome: 'appended', version: 1 },
        { ord: 2, outcome: 'appended', version: 1 },
      ]);
      expect([await derivedRows(owner, `address-${ids[0]}`), await derivedRows(owner, `address-${ids[1]}`)]).toEqual(
        expected,
      );
      const { rows: recorded } = await owner.query(
        `SELECT count(*)::int AS n FROM processed_commands WHERE command_id = ANY($1)`,
        [items.map((item) => item.commandId)],
      );
      expect(recorded).toEqual([{ n: 2 }]);
      // The session is left as it was: the trigger derives the next statement's rows, and the
      // planner's setting the function changed for its statement is back to the caller's.
      await owner.query('SET LOCAL enable_nestloop = off');
      await owner.query(`SELECT outcome FROM append_events_batch($1::jsonb, 'ledger_events')`, [
        JSON.stringify(
          [randomUUID()].map((id) => ({
            streamId: `address-${id}`,
            expectedVersion: 0,
            events: [{ eventId: randomUUID(), ...registered(id, 'Saco') }],
          })),
        ),
      ]);
      const { rows: settings } = await owner.query(
        `SELECT current_setting('ledger.derived', true) AS derived, current_setting('enable_nestloop') AS nestloop`,
      );
      expect(settings).toEqual([{ derived: '', nestloop: 'off' }]);
    } finally {
      await owner.query('ROLLBACK');
      owner.release();
    }
  });

  it('refuses what the trigger refuses, naming the same holder', async () => {
    // X holds one key; the batch registers A, then B with A's key, then C with X's key. The
    // trigger names X (an active address outside the statement comes first), not A.
    const x = randomUUID();
    const [held, shared] = [`${randomUUID()} Front Street`, `${randomUUID()} Water Street`];
    await store.append(`address-${x}`, [withOwner(x, 'Bath', held)], { expectedVersion: 0 });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const batch = [
      { streamId: `address-${a}`, event: withOwner(a, 'Bath', shared) },
      { streamId: `address-${b}`, event: withOwner(b, 'Bath', shared) },
      { streamId: `address-${c}`, event: withOwner(c, 'Bath', held) },
    ];
    const refusal = async (write: (client: pg.ClientBase) => Promise<unknown>) => {
      const owner = await db.ownerPool.connect();
      try {
        await owner.query('BEGIN');
        return await write(owner).then(
          () => null,
          (error: { message: string }) => error.message,
        );
      } finally {
        await owner.query('ROLLBACK');
        owner.release();
      }
    };
    const viaBatch = (registrations: typeof batch) => (client: pg.ClientBase) =>
      client.query(`SELECT * FROM append_events_batch($1::jsonb, 'ledger_events')`, [
        JSON.stringify(
          registrations.map(({ streamId, event }) => ({
            streamId,
            expectedVersion: 0,
            events: [{ eventId: randomUUID(), ...event }],
          })),
        ),
      ]);
    const viaTrigger = await refusal((client) => insertViaTrigger(batch, client));
    expect(viaTrigger).toBe(`duplicate_address address-${x}`);
    expect(await refusal(viaBatch(batch))).toBe(viaTrigger);
    // Without X's key in it, the later of the two is the duplicate of the earlier, on both paths.
    const pair = batch.slice(0, 2);
    const pairViaTrigger = await refusal((client) => insertViaTrigger(pair, client));
    expect(pairViaTrigger).toBe(`duplicate_address address-${a}`);
    expect(await refusal(viaBatch(pair))).toBe(pairViaTrigger);
  });

  it('answers a repeat and an existing stream in a batch of registrations, and writes the rows of the new one', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const commandId = randomUUID();
    const first = await store.appendBatch([
      {
        streamId: `address-${a}`,
        expectedVersion: 0,
        events: [registered(a, 'Wells')],
        command: { commandId, requestHash: 'h-a' },
      },
      { streamId: `address-${b}`, expectedVersion: 0, events: [registered(b, 'Wells')] },
    ]);
    expect(first.map((o) => o.ok)).toEqual([true, true]);
    const again = await store.appendBatch([
      {
        streamId: `address-${a}`,
        expectedVersion: 0,
        events: [registered(a, 'Wells')],
        command: { commandId, requestHash: 'h-a' },
      },
      { streamId: `address-${b}`, expectedVersion: 0, events: [registered(b, 'Wells')] },
      { streamId: `address-${c}`, expectedVersion: 0, events: [registered(c, 'Wells')] },
    ]);
    expect(again[0]).toMatchObject({ ok: true, result: { replayed: true, version: 1 } });
    expect(again[1]).toMatchObject({ ok: false });
    expect(again[2]).toMatchObject({ ok: true, result: { replayed: false, version: 1 } });
    expect((await derivedRows(db.pool, `address-${c}`))[0]).toMatchObject({ head: 1, head_hash: true, city: 'wells' });
  });
});
