import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddressAlreadyRegistered,
  type AddressFieldsInput,
  InvalidAddress,
  type RegisterAddress,
} from '@/domain/address';
import { sqlState } from '@/domain/command-handler';
import { createLedger, type Ledger } from '@/lib/ledger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from './errors';
import type { NewEvent } from './postgres-event-store';

let db: TestDatabase;
let ledger: Ledger;
beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

const actor = { id: 'test', name: 'Test', role: 'system' as const };
const fields = (line1: string): AddressFieldsInput => ({ line1, city: 'Portland', postalCode: '04101', country: 'US' });
const event = (n: number): NewEvent => ({
  type: 'AddressChanged',
  schemaVersion: 1,
  data: { n },
  metadata: { actor, commandId: 'c', correlationId: 'c', source: 'import' },
});
const register = (line1: string, commandId = randomUUID()): RegisterAddress => ({
  type: 'RegisterAddress',
  data: { addressId: randomUUID(), fields: fields(line1) },
  metadata: { commandId, correlationId: 'run', actor, source: 'import' },
});
const count = async (sql: string, params: unknown[] = []) =>
  (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params)).rows[0]!.n;

describe('store.appendBatch (append_events_batch)', () => {
  it('appends to many streams at once, checking each expected version and command id', async () => {
    const [a, b, c] = [`s-${randomUUID()}`, `s-${randomUUID()}`, `s-${randomUUID()}`];
    await ledger.store.append(c, [event(0)], { expectedVersion: 0 });
    const command = (id: string) => ({ commandId: id, requestHash: `hash-${id}` });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const first = await ledger.store.appendBatch([
      { streamId: a, expectedVersion: 0, events: [event(1), event(2)], command: command(ids[0]!) },
      { streamId: b, expectedVersion: 0, events: [event(3)], command: command(ids[1]!) },
      { streamId: c, expectedVersion: 1, events: [event(4)], command: command(ids[2]!) },
    ]);
    expect(first.map((o) => o.ok && o.result.version)).toEqual([2, 1, 2]);
    const versions = await db.pool.query(
      'SELECT stream_id, stream_version, data FROM events WHERE stream_id = ANY($1) ORDER BY position',
      [[a, b, c]],
    );
    expect(versions.rows.map((r) => [r.stream_id, r.stream_version, r.data.n])).toEqual([
      [c, 1, 0],
      [a, 1, 1],
      [a, 2, 2],
      [b, 1, 3],
      [c, 2, 4],
    ]);

    // The same commands again: their stored results, nothing appended; a wrong version or a
    // reused id with another request is refused per item, the others still go in.
    const d = `s-${randomUUID()}`;
    const again = await ledger.store.appendBatch([
      { streamId: a, expectedVersion: 0, events: [event(1), event(2)], command: command(ids[0]!) },
      { streamId: b, expectedVersion: 0, events: [event(3)], command: { commandId: ids[1]!, requestHash: 'other' } },
      { streamId: c, expectedVersion: 1, events: [event(5)] },
      { streamId: d, expectedVersion: 0, events: [event(6)] },
    ]);
    expect(again[0]).toEqual({ ok: true, result: { ...(first[0]!.ok ? first[0]!.result : {}), replayed: true } });
    expect(again[1]).toMatchObject({ ok: false, error: expect.any(IdempotencyKeyReusedError) });
    expect(again[2]).toMatchObject({ ok: false, error: expect.any(VersionConflictError) });
    expect(again[2]!.ok === false && again[2]!.error).toMatchObject({
      expectedVersion: 1,
      actualVersion: 2,
    });
    expect(again[3]).toMatchObject({ ok: true, result: { streamId: d, version: 1, replayed: false } });
    expect(await count('SELECT 1 FROM events WHERE stream_id = ANY($1)', [[a, b, c, d]])).toBe(6);
  });

  it('notifies once per batch, on commit, with the last position written', async () => {
    const listener = await db.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query('LISTEN address_ledger_events');
    try {
      const out = await ledger.store.appendBatch([
        { streamId: `s-${randomUUID()}`, expectedVersion: 0, events: [event(1)] },
        { streamId: `s-${randomUUID()}`, expectedVersion: 0, events: [event(2)] },
      ]);
      const last = Math.max(...out.map((o) => (o.ok ? Number(o.result.position) : 0)));
      await expect.poll(() => payloads).toEqual([last.toString()]);
    } finally {
      listener.release();
    }
  });
});

describe('ledger.handleBatch', () => {
  it('registers a batch; rule violations and existing addresses answer per command', async () => {
    const existing = register('1 Existing Street');
    await ledger.handle({ ...existing, metadata: { ...existing.metadata, commandId: randomUUID() } });
    const good = register('2 Good Street');
    const invalid: RegisterAddress = {
      ...register('3 Bad Street'),
      data: { addressId: randomUUID(), fields: fields('') },
    };
    const out = await ledger.handleBatch([good, invalid, existing]);
    expect(out[0]).toMatchObject({ ok: true, result: { version: 1, appended: 1, replayed: false } });
    expect(out[1]).toMatchObject({ ok: false, error: expect.any(InvalidAddress) });
    expect(out[2]).toMatchObject({ ok: false, error: expect.any(AddressAlreadyRegistered) });

    const repeat = await ledger.handleBatch([good]);
    expect(repeat[0]).toMatchObject({ ok: true, result: { appended: 0, replayed: true } });
  });

  it('a batch the duplicate guard refuses for one row costs only that row', async () => {
    const existing = register('13 Refused Street');
    await ledger.handle(existing);
    // The same address under another id: the guard's unique reservation refuses the whole batch.
    const again = { ...register('13 Refused Street'), data: { ...existing.data, addressId: randomUUID() } };
    const commands = [register('11 Fine Street'), again, register('15 Fine Street')];
    const refused: unknown[] = [];
    const out = await ledger.handleBatch(commands, { onBatchRefused: (e) => refused.push(e) });
    expect(refused).toHaveLength(1);
    expect(sqlState(refused[0])).toBe('23505');
    expect(out.map((o) => o.ok)).toEqual([true, false, true]);
    const error = out[1]!.ok === false ? out[1]!.error : null;
    expect(error).toBeInstanceOf(DuplicateAddressError);
    expect((error as DuplicateAddressError).existingStreamId).toBe(`address-${existing.data.addressId}`);
    expect(
      await count(
        "SELECT 1 FROM events WHERE data->>'line1' IN ('11 Fine Street', '13 Refused Street', '15 Fine Street')",
      ),
    ).toBe(3);
  });

  it('two writers of the same commands at once: each address once, every command answered', async () => {
    const commands = Array.from({ length: 60 }, (_, i) => register(`${i + 1} Race Street`));
    const [x, y] = await Promise.all([ledger.handleBatch(commands), ledger.handleBatch(commands)]);
    expect([...x!, ...y!].every((o) => o.ok)).toBe(true);
    const appended = [...x!, ...y!].reduce((n, o) => n + (o.ok ? o.result.appended : 0), 0);
    expect(appended).toBe(60);
    expect(await count("SELECT DISTINCT stream_id FROM events WHERE data->>'line1' LIKE '% Race Street'")).toBe(60);
    expect(await count("SELECT 1 FROM events WHERE data->>'line1' LIKE '% Race Street'")).toBe(60);
  });
});
