import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AddressCommand, AddressNotFound, addressStreamId } from '@/domain/address';
import { VersionConflictError } from '@/domain/event-store/errors';
import type { CommandMetadata } from '@/domain/messages';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { createLedger, type Ledger } from './ledger';

let db: TestDatabase;
let ledger: Ledger;

beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

function metadata(commandId: string = randomUUID()): CommandMetadata {
  return {
    commandId,
    correlationId: commandId,
    actor: { id: 'u-7', name: 'Imogen Importer', role: 'operator' },
    source: 'import',
  };
}

const fields = { line1: '28 Poland Spring Road', city: 'Auburn', region: 'ME', postalCode: '04210', country: 'US' };

function register(addressId: string, commandId?: string): AddressCommand {
  // An owner of its own: the duplicate guard refuses a second active address with the same fields.
  return {
    type: 'RegisterAddress',
    data: { addressId, fields: { ...fields, owner: addressId } },
    metadata: metadata(commandId),
  };
}

describe('the command handler on PostgreSQL', () => {
  it('registers, then changes, with versions and positions from the store', async () => {
    const addressId = randomUUID();
    const registered = await ledger.handle(register(addressId));
    expect(registered).toMatchObject({ streamId: addressStreamId(addressId), version: 1, appended: 1 });
    const changed = await ledger.handle(
      { type: 'ChangeAddress', data: { addressId, changes: { line1: '30 Poland Spring Road' } }, metadata: metadata() },
      { expectedVersion: 1 },
    );
    expect(changed.version).toBe(2);
    expect(BigInt(changed.position!)).toBeGreaterThan(BigInt(registered.position!));
    const { state } = await ledger.loadAddress(addressId);
    expect(state.fields?.line1).toBe('30 Poland Spring Road');
  });

  it('runs the same command id once and returns the first result again', async () => {
    const addressId = randomUUID();
    const commandId = randomUUID();
    const first = await ledger.handle(register(addressId, commandId));
    const again = await ledger.handle(register(addressId, commandId));
    expect(again).toMatchObject({ version: first.version, position: first.position, replayed: true, appended: 0 });
    expect(await ledger.store.streamVersion(addressStreamId(addressId))).toBe(1);
  });

  it('reports a missing address as not found, not as a version conflict', async () => {
    const command: AddressCommand = {
      type: 'ArchiveAddress',
      data: { addressId: randomUUID(), reason: 'gone' },
      metadata: metadata(),
    };
    await expect(ledger.handle(command, { expectedVersion: 3 })).rejects.toBeInstanceOf(AddressNotFound);
  });

  it('refuses a caller-supplied version that is stale', async () => {
    const addressId = randomUUID();
    await ledger.handle(register(addressId));
    const change = (line1: string): AddressCommand => ({
      type: 'ChangeAddress',
      data: { addressId, changes: { line1 } },
      metadata: metadata(),
    });
    await ledger.handle(change('1 A Street'), { expectedVersion: 1 });
    await expect(ledger.handle(change('2 B Street'), { expectedVersion: 1 })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
  });

  it('decides again on fresh state when writers without an expected version race', async () => {
    const addressId = randomUUID();
    await ledger.handle(register(addressId));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        ledger.handle({
          type: 'ChangeAddress',
          data: { addressId, changes: { owner: `owner ${i}` } },
          metadata: metadata(),
        }),
      ),
    );
    expect(results.every((r) => r.appended === 1)).toBe(true);
    const versions = (await ledger.store.readStream(addressStreamId(addressId))).map((e) => e.streamVersion);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('old event shapes', () => {
  it('reads a stored version-1 AddressRegistered as the current shape', async () => {
    const addressId = randomUUID();
    // Written as an earlier release stored it: street/zip/countryCode, schema_version 1.
    await db.pool.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
       VALUES ($1, 1, gen_random_uuid(), 'AddressRegistered', 1, $2, $3)`,
      [
        addressStreamId(addressId),
        JSON.stringify({
          addressId,
          street: '2 Turner Street',
          city: 'Auburn',
          state: 'ME',
          zip: '04210',
          countryCode: 'US',
        }),
        JSON.stringify({ ...metadata(), source: 'api' }),
      ],
    );
    const { events, state } = await ledger.loadAddress(addressId);
    expect(events[0]).toMatchObject({ schemaVersion: 2, data: { line1: '2 Turner Street', postalCode: '04210' } });
    expect(state.fields).toMatchObject({ line1: '2 Turner Street', region: 'ME', postalCode: '04210', country: 'US' });
    // And the upgraded history accepts new commands.
    const changed = await ledger.handle(
      { type: 'ChangeAddress', data: { addressId, changes: { line1: '4 Turner Street' } }, metadata: metadata() },
      { expectedVersion: 1 },
    );
    expect(changed.version).toBe(2);
  });
});
