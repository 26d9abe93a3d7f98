import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AddressCommand, type AddressFieldsInput, addressStreamId } from '@/domain/address';
import { sqlState } from '@/domain/command-handler';
import { DuplicateAddressError } from '@/domain/event-store/errors';
import type { NewEvent } from '@/domain/event-store/event-store';
import type { CommandMetadata } from '@/domain/messages';
import { createPrisma, poolOf } from '@/lib/db';
import { createLedger, type Ledger } from '@/lib/ledger';
import { migrate } from '@/lib/migrate';
import { createTestDatabase, migrateBefore, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';

/*
 * The duplicate guard in the database (prisma/migrations/20261201020000_address_keys): one SQL
 * function defines the normalised key, and a trigger on `events` keeps one reservation per active
 * address inside the append's own statement.
 */

let db: TestDatabase;
let ledger: Ledger;
beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

function metadata(): CommandMetadata {
  const commandId = randomUUID();
  return { commandId, correlationId: commandId, actor: { id: 'u-1', name: 'Ida', role: 'operator' }, source: 'api' };
}

async function register(fields: AddressFieldsInput, addressId = randomUUID()) {
  await ledger.handle({ type: 'RegisterAddress', data: { addressId, fields }, metadata: metadata() });
  return addressId;
}

async function edit(command: Omit<Exclude<AddressCommand, { type: 'RegisterAddress' }>, 'metadata'>) {
  return ledger.handle({ ...command, metadata: metadata() } as AddressCommand);
}

async function key(line1: string, line2: string | null, postalCode: string, country: string, owner: string | null) {
  const { rows } = await db.pool.query<{ k: string }>('SELECT address_key($1, $2, $3, $4, $5) AS k', [
    line1,
    line2,
    postalCode,
    country,
    owner,
  ]);
  return rows[0]!.k;
}

async function refusal(work: Promise<unknown>): Promise<DuplicateAddressError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DuplicateAddressError);
  return error as DuplicateAddressError;
}

describe('address_key(): the one normalisation of the duplicate guard', () => {
  it('folds case, accents, inner and outer white space, and spaces or hyphens in the postal code', async () => {
    const base = await key('12 Rue de l’Église', 'Bâtiment B', 'AB1 2CD', 'FR', 'Café Ltd');
    expect(await key('  12   RUE DE L’EGLISE ', 'batiment  b', 'ab12cd', 'fr', 'CAFE LTD')).toBe(base);
    expect(await key('12 rue de l’église', 'BÂTIMENT B', 'AB1-2CD', 'FR', ' café ltd')).toBe(base);
    // Decomposed accents (e + U+0301) are the same text as the composed ones.
    expect(await key('12 Rue de l’E\u0301glise', 'Bâtiment B', 'AB1 2CD', 'FR', 'Café Ltd')).toBe(base);
  });

  it('tells different addresses apart: another number, line 2, postal code, country or owner', async () => {
    const base = await key('12 Main Street', null, '04210', 'US', null);
    expect(await key('12 Main Street', '', '04210', 'US', '')).toBe(base);
    const others = [
      await key('14 Main Street', null, '04210', 'US', null),
      await key('12 Main Street', 'Unit 2', '04210', 'US', null),
      await key('12 Main Street', null, '04211', 'US', null),
      await key('12 Main Street', null, '04210', 'CA', null),
      await key('12 Main Street', null, '04210', 'US', 'CUST-1'),
      // The parts are separated, so text cannot move from one field to the next unnoticed.
      await key('12 Main', 'Street', '04210', 'US', null),
      await key('12 Mainstreet', null, '04210', 'US', null),
    ];
    for (const other of others) expect(other).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
  });
});

describe('the reservation kept by the trigger on events', () => {
  const fields = { line1: '5 Lisbon Street', city: 'Lewiston', postalCode: '04240', country: 'US' };

  it('refuses a second active address with the same key, naming the first; nothing is appended', async () => {
    const first = await register({ ...fields, owner: 'A-1' });
    const secondId = randomUUID();
    const error = await refusal(register({ ...fields, line1: ' 5  LISBON street', owner: 'a-1' }, secondId));
    expect(error.existingStreamId).toBe(addressStreamId(first));
    expect(await ledger.store.streamVersion(addressStreamId(secondId))).toBe(0);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM processed_commands WHERE stream_id = $1', [
      addressStreamId(secondId),
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('lets an archive free the key, and refuses a restore that would collide', async () => {
    const first = await register({ ...fields, owner: 'B-1' });
    await edit({ type: 'ArchiveAddress', data: { addressId: first, reason: 'moved' } });
    const second = await register({ ...fields, owner: 'B-1' });
    const error = await refusal(edit({ type: 'RestoreAddress', data: { addressId: first } }));
    expect(error.existingStreamId).toBe(addressStreamId(second));
    expect((await ledger.loadAddress(first)).state.status).toBe('archived');
  });

  it('follows changes and corrections field by field; a change onto another address is refused', async () => {
    const a = await register({ ...fields, owner: 'C-1' });
    const b = await register({ ...fields, owner: 'C-2', line2: 'Unit 4' });
    // Changing the city is not part of the key: b keeps its own key.
    await edit({ type: 'ChangeAddress', data: { addressId: b, changes: { city: 'Auburn' } } });
    // Clearing line 2 and taking a's owner would make b the same as a.
    await edit({ type: 'ChangeAddress', data: { addressId: b, changes: { line2: null } } });
    const error = await refusal(edit({ type: 'ChangeAddress', data: { addressId: b, changes: { owner: 'c-1' } } }));
    expect(error.existingStreamId).toBe(addressStreamId(a));
    const correction = edit({
      type: 'CorrectAddress',
      data: { addressId: b, corrects: 1, fields: { owner: 'C-1 ' }, reason: 'typo' },
    });
    expect((await refusal(correction)).existingStreamId).toBe(addressStreamId(a));
    // After a changes away, b may take the key a had.
    await edit({ type: 'ChangeAddress', data: { addressId: a, changes: { line1: '7 Lisbon Street' } } });
    await edit({ type: 'ChangeAddress', data: { addressId: b, changes: { owner: 'C-1' } } });
    const { rows } = await db.pool.query('SELECT owner, line2 FROM address_keys WHERE stream_id = $1', [
      addressStreamId(b),
    ]);
    expect(rows).toEqual([{ owner: 'C-1', line2: null }]);
  });

  it('keeps its connection after a refusal: a refused command does not cost a new backend', async () => {
    // One connection only, so the backend before and after is the pool's one connection. A new
    // one logs in and compiles the append functions again: importing a file already in the
    // register once ran at 150 rows/s for it.
    const one = createPrisma(db.url, { max: 1 });
    try {
      const single = createLedger(one);
      const pool = poolOf(one)!;
      const backend = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const held = { line1: '9 Refusal Row', city: 'Lewiston', postalCode: '04240', country: 'US' };
      await single.handle({
        type: 'RegisterAddress',
        data: { addressId: randomUUID(), fields: held },
        metadata: metadata(),
      });
      const before = await backend();
      for (let i = 0; i < 3; i++) {
        await refusal(
          single.handle({
            type: 'RegisterAddress',
            data: { addressId: randomUUID(), fields: held },
            metadata: metadata(),
          }),
        );
      }
      expect(await backend()).toBe(before);
    } finally {
      await one.$disconnect();
    }
  });

  it('retires a connection that died under a statement, and the process lives on', async () => {
    const one = createPrisma(db.url, { max: 1 });
    const admin = new pg.Client({ connectionString: db.superuserUrl });
    await admin.connect();
    try {
      const single = createLedger(one);
      const pool = poolOf(one)!;
      const backend = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const before = await backend();
      // The stream's lock (append_events takes it first) holds the append inside its statement
      // until the server ends that backend.
      const addressId = randomUUID();
      const holder = await db.ownerPool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [addressStreamId(addressId)]);
        const fields = { line1: '11 Severed Lane', city: 'Lewiston', postalCode: '04240', country: 'US' };
        const append = single.handle({ type: 'RegisterAddress', data: { addressId, fields }, metadata: metadata() });
        const failed = append.then(
          () => null,
          (error: unknown) => error,
        );
        await waitFor('the append to wait for the stream lock', async () => {
          const { rows } = await admin.query(
            `SELECT pid FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
            [before],
          );
          return rows.length === 1;
        });
        await admin.query('SELECT pg_terminate_backend($1)', [before]);
        expect(await failed).toBeInstanceOf(Error);
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      // A new connection serves the next statement.
      expect(await backend()).not.toBe(before);
    } finally {
      await admin.end();
      await one.$disconnect();
    }
  });

  it('lets the runtime role read reservations but never write them itself', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE address_ledger_runtime');
      const { rows } = await client.query('SELECT count(*)::int AS n FROM address_keys');
      expect(rows[0].n).toBeGreaterThan(0);
      await expect(
        client.query("UPDATE address_keys SET active = false WHERE stream_id LIKE 'address-%'"),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('lets exactly one of 20 concurrent registrations of the same address win', async () => {
    const spellings = Array.from({ length: 20 }, (_, i) => ({
      ...fields,
      line1: i % 2 ? '9 lisbon  street' : ` 9 LISBON STREET`,
      owner: i % 3 ? 'D-1' : 'd-1 ',
    }));
    const outcomes = await Promise.allSettled(spellings.map((f) => register(f)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    const winner = addressStreamId((won[0] as PromiseFulfilledResult<string>).value);
    for (const error of lost) {
      expect(error).toBeInstanceOf(DuplicateAddressError);
      expect((error as DuplicateAddressError).existingStreamId).toBe(winner);
    }
  });
});

describe("a statement that registers many addresses (the import's batch)", () => {
  const registration = (line1: string): AddressCommand => ({
    type: 'RegisterAddress',
    data: { addressId: randomUUID(), fields: { line1, city: 'Bangor', postalCode: '04401', country: 'US' } },
    metadata: metadata(),
  });
  const streamOf = (command: AddressCommand) => addressStreamId(command.data.addressId);
  const refusedBatch = async (commands: AddressCommand[]) => {
    let refused: unknown = null;
    const outcomes = await ledger.handleBatch(commands, { onBatchRefused: (error) => (refused = error) });
    return { refused, outcomes };
  };
  const reservations = async (commands: AddressCommand[]) =>
    (
      await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM address_keys WHERE stream_id = ANY($1) AND active',
        [commands.map(streamOf)],
      )
    ).rows[0]!.n;

  it('reserves every key of the batch in one go', async () => {
    const batch = ['1 Union Street', '2 Union Street', '3 Union Street'].map(registration);
    const { refused, outcomes } = await refusedBatch(batch);
    expect(refused).toBeNull();
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(await reservations(batch)).toBe(3);
  });

  it('refuses the whole statement, naming the earlier of two rows with one key; retried in parts, the later is the duplicate', async () => {
    const batch = ['10 Union Street', '11 Union Street', ' 10 UNION street', '12 Union Street'].map(registration);
    const { refused, outcomes } = await refusedBatch(batch);
    // The batch's own refusal is the database's error (the store maps it per command after).
    expect(sqlState(refused)).toBe('23505');
    expect(String(refused)).toContain(`duplicate_address ${streamOf(batch[0]!)}`);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true]);
    expect(!outcomes[2]!.ok && (outcomes[2]!.error as DuplicateAddressError).existingStreamId).toBe(
      streamOf(batch[0]!),
    );
    expect(await reservations(batch)).toBe(3);
  });

  it('refuses a batch whose row takes the key of an active address, naming that address', async () => {
    const holder = await register({ line1: '20 Union Street', city: 'Bangor', postalCode: '04401', country: 'US' });
    const batch = ['21 Union Street', '20 union street'].map(registration);
    const { refused, outcomes } = await refusedBatch(batch);
    expect(String(refused)).toContain(`duplicate_address ${addressStreamId(holder)}`);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(await ledger.store.streamVersion(streamOf(batch[1]!))).toBe(0);
  });

  it('makes a batch whose key another batch in flight takes wait for it, then refuses it naming the holder', async () => {
    const line1 = '30 Union Street';
    const [first, second] = [0, 1].map((i) => [registration(`${40 + i} Union Street`), registration(line1)]);
    const itemsOf = (batch: AddressCommand[]) =>
      batch.map((command) => ({
        streamId: streamOf(command),
        expectedVersion: 0,
        events: [
          {
            eventId: randomUUID(),
            type: 'AddressRegistered',
            schemaVersion: 2,
            data: { addressId: command.data.addressId, ...(command.data as { fields: object }).fields },
            metadata: command.metadata,
          },
        ],
      }));
    // The first batch holds its reservations in an open transaction while the second is sent.
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM append_events_batch($1::jsonb, 'ledger_events')`, [
        JSON.stringify(itemsOf(first!)),
      ]);
      const racing = ledger.store.appendBatch(
        itemsOf(second!).map(({ events, ...item }) => ({ ...item, events: events.map(({ eventId: _, ...e }) => e) })),
      );
      const refused = racing.then(
        () => null,
        (error: unknown) => String(error),
      );
      await waitFor('the second batch to wait for the first', async () => {
        const { rows } = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%append_events_batch%'`,
        );
        return rows.length > 0;
      });
      await holder.query('COMMIT');
      expect(await refused).toContain(`duplicate_address ${streamOf(first![1]!)}`);
    } finally {
      holder.release();
    }
    expect(await reservations(first!)).toBe(2);
    expect(await reservations(second!)).toBe(0);
    expect(await ledger.store.streamVersion(streamOf(second![0]!))).toBe(0);
  });
});

describe("folds a statement's events: only each stream's final key counts (migration 20261204020000)", () => {
  // One append_events call (or one append_events_batch) is one INSERT: its events commit together
  // with one recorded_at, so the keys a stream passes through inside it are never held at any
  // instant anyone can see. The guard checks where each stream ends.
  const base = { city: 'Ellsworth', postalCode: '04605', country: 'US' };
  const meta = () => ({ ...metadata(), source: 'import' as const });
  const registered = (addressId: string, line1: string, owner?: string): NewEvent => ({
    type: 'AddressRegistered',
    schemaVersion: 2,
    data: { addressId, line1, ...base, ...(owner ? { owner } : {}) },
    metadata: meta(),
  });
  const changed = (addressId: string, changes: Record<string, unknown>): NewEvent => ({
    type: 'AddressChanged',
    schemaVersion: 1,
    data: { addressId, changes },
    metadata: meta(),
  });
  const archived = (addressId: string): NewEvent => ({
    type: 'AddressArchived',
    schemaVersion: 1,
    data: { addressId, reason: 'gone' },
    metadata: meta(),
  });
  const reservation = async (addressId: string) =>
    (
      await db.pool.query<{ line1: string; owner: string | null; active: boolean; key: string }>(
        'SELECT line1, owner, active, key FROM address_keys WHERE stream_id = $1',
        [addressStreamId(addressId)],
      )
    ).rows[0];
  const append = (addressId: string, events: NewEvent[], expectedVersion: number) =>
    ledger.store.append(addressStreamId(addressId), events, { expectedVersion });

  it('accepts A→B→A in one append while another address holds B; the reservation is A', async () => {
    const holder = await register({ line1: '1 Bridge Road', ...base });
    const s = randomUUID();
    const owners = Array.from({ length: 40 }, (_, i) => changed(s, { owner: `o-${i}` }));
    await append(
      s,
      [
        registered(s, '2 Bridge Road'),
        ...owners,
        changed(s, { line1: '1 Bridge Road', owner: null }), // the holder's key
        changed(s, { line1: '2 Bridge Road' }),
      ],
      0,
    );
    expect(await reservation(s)).toMatchObject({
      line1: '2 Bridge Road',
      owner: null,
      active: true,
      key: await key('2 Bridge Road', null, base.postalCode, base.country, null),
    });
    expect((await reservation(holder))?.active).toBe(true);
  });

  it('refuses a run of changes ending on the key another active address holds, naming it; nothing is written', async () => {
    const holder = await register({ line1: '3 Bridge Road', ...base, owner: 'H' });
    const s = await register({ line1: '4 Bridge Road', ...base });
    const before = await reservation(s);
    const run = [
      ...Array.from({ length: 60 }, (_, i) => changed(s, { line1: `${100 + i} Bridge Road` })),
      changed(s, { line1: ' 3 BRIDGE road', owner: 'h' }),
    ];
    const error = await refusal(append(s, run, 1));
    expect(error.existingStreamId).toBe(addressStreamId(holder));
    expect(await ledger.store.streamVersion(addressStreamId(s))).toBe(1);
    expect(await reservation(s)).toEqual(before);
  });

  it('refuses a registration and its changes in one append when they end on a held key', async () => {
    const holder = await register({ line1: '5 Bridge Road', ...base });
    const s = randomUUID();
    const error = await refusal(append(s, [registered(s, '6 Bridge Road'), changed(s, { line1: '5 Bridge Road' })], 0));
    expect(error.existingStreamId).toBe(addressStreamId(holder));
    expect(await reservation(s)).toBeUndefined();
  });

  it('frees the key of a stream archived in the same append, and keeps the fields an event does not name', async () => {
    const s = randomUUID();
    await append(s, [registered(s, '7 Bridge Road', 'K'), changed(s, { city: 'Bar Harbor' }), archived(s)], 0);
    expect(await reservation(s)).toMatchObject({ line1: '7 Bridge Road', owner: 'K', active: false });
    // The key is free again: the same address registers.
    await register({ line1: '7 Bridge Road', ...base, owner: 'k' });
  });

  it('lets a batch move a key from one stream to another in either order, and refuses two ending on one key', async () => {
    const streamOf = (id: string) => addressStreamId(id);
    const item = (id: string, events: NewEvent[], expectedVersion: number) => ({
      streamId: streamOf(id),
      expectedVersion,
      events,
    });
    for (const order of ['giver first', 'taker first']) {
      const giver = await register({ line1: `8 Bridge Road ${order}`, ...base });
      const taker = randomUUID();
      const give = item(giver, [changed(giver, { line1: `9 Bridge Road ${order}` })], 1);
      const take = item(taker, [registered(taker, `8 Bridge Road ${order}`)], 0);
      const outcomes = await ledger.store.appendBatch(order === 'giver first' ? [give, take] : [take, give]);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect((await reservation(taker))?.line1).toBe(`8 Bridge Road ${order}`);
      expect((await reservation(giver))?.line1).toBe(`9 Bridge Road ${order}`);
    }
    const a = await register({ line1: '10 Bridge Road', ...base });
    const b = randomUUID();
    const batch = ledger.store.appendBatch([
      item(a, [changed(a, { line1: '11 Bridge Road' })], 1),
      item(b, [registered(b, '11 bridge road')], 0),
    ]);
    await expect(batch).rejects.toThrow(`duplicate_address ${streamOf(a)}`);
    expect((await reservation(a))?.line1).toBe('10 Bridge Road');
    expect(await reservation(b)).toBeUndefined();
  });

  it('folds the first shape of a registration with the changes after it in one statement', async () => {
    // A raw two-row INSERT (the owner's right): version 1 of AddressRegistered, then a change.
    const id = randomUUID();
    await db.ownerPool.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
       VALUES ($1, 1, $2, 'AddressRegistered', 1, $3, '{}'), ($1, 2, $4, 'AddressChanged', 1, $5, '{}')`,
      [
        addressStreamId(id),
        randomUUID(),
        JSON.stringify({ addressId: id, street: '12 Bridge Road', zip: '04605', countryCode: 'US', city: 'Ellsworth' }),
        randomUUID(),
        JSON.stringify({ addressId: id, changes: { line2: 'Unit 2' } }),
      ],
    );
    expect(await reservation(id)).toMatchObject({
      line1: '12 Bridge Road',
      active: true,
      key: await key('12 Bridge Road', 'Unit 2', '04605', 'US', null),
    });
  });
});

describe('the migration that introduces the guard', () => {
  it('reserves the keys of addresses registered before it, in the order they happened', async () => {
    const old = await createTestDatabase({ empty: true });
    try {
      // Migrating and writing raw event rows are the owner's rights, not the app's.
      await migrateBefore(old.ownerUrl, '20261201020000');
      const insert = (stream: string, version: number, type: string, schemaVersion: number, data: unknown) =>
        old.ownerPool.query(
          `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
           VALUES ($1, $2, $3, $4, $5, $6, '{}')`,
          [stream, version, randomUUID(), type, schemaVersion, JSON.stringify(data)],
        );
      // a: the first shape of a registration, later changed; b: a duplicate of a (kept, unguarded);
      // c: archived, so its key is free.
      await insert('address-a', 1, 'AddressRegistered', 1, {
        addressId: 'a',
        street: '1 Elm St',
        zip: '04210',
        countryCode: 'US',
        city: 'Auburn',
      });
      await insert('address-b', 1, 'AddressRegistered', 2, {
        addressId: 'b',
        line1: '1 ELM ST',
        postalCode: '04210',
        country: 'US',
        city: 'Auburn',
      });
      await insert('address-a', 2, 'AddressChanged', 1, { addressId: 'a', changes: { line2: 'Unit 1' } });
      await insert('address-c', 1, 'AddressRegistered', 2, {
        addressId: 'c',
        line1: '2 Elm St',
        postalCode: '04210',
        country: 'US',
        city: 'Auburn',
      });
      await insert('address-c', 2, 'AddressArchived', 1, { addressId: 'c', reason: 'gone' });

      await migrate(old.ownerUrl);
      const { rows } = await old.pool.query(
        'SELECT stream_id, line1, line2, active FROM address_keys ORDER BY stream_id',
      );
      expect(rows).toEqual([
        { stream_id: 'address-a', line1: '1 Elm St', line2: 'Unit 1', active: true },
        { stream_id: 'address-c', line1: '2 Elm St', line2: null, active: false },
      ]);
      // The reservation is live: a's current key is taken, c's archived key is free.
      const taken = old.ownerPool.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
         VALUES ('address-d', 1, $1, 'AddressRegistered', 2, $2, '{}')`,
        [
          randomUUID(),
          JSON.stringify({
            addressId: 'd',
            line1: '1 elm st',
            line2: 'unit 1',
            postalCode: '04210',
            country: 'US',
            city: 'X',
          }),
        ],
      );
      await expect(taken).rejects.toThrow(/duplicate_address address-a/);
      await insert('address-e', 1, 'AddressRegistered', 2, {
        addressId: 'e',
        line1: '2 Elm St',
        postalCode: '04210',
        country: 'US',
        city: 'Auburn',
      });
    } finally {
      await old.drop();
    }
  });
});
