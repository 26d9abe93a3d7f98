import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AddressCommand,
  type AddressEvent,
  AddressNotFound,
  type AddressState,
  addressDecider,
  addressStreamId,
  CURRENT_SCHEMA_VERSIONS,
} from '@/domain/address';
import { createCommandHandler } from '@/domain/command-handler';
import { VersionConflictError } from '@/domain/event-store/errors';
import type { CommandMetadata } from '@/domain/messages';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { createLedger, type Ledger } from './ledger';
import { InvalidInputError, postalCodeFitsCountry } from './validation/address';

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

  it('answers racing registrations of one command id (a double-submitted form) with the stream written first', async () => {
    // The register form mints a new address id per submit and keys the command by the form's
    // token, so a double submit is two commands with one id on two different streams.
    const commandId = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        ledger.handle(register(randomUUID(), commandId), { requestHash: 'same form, same fields' }),
      ),
    );
    const written = results.filter((r) => !r.replayed);
    expect(written).toHaveLength(1);
    const { streamId, version, position } = written[0]!;
    for (const r of results)
      expect({ streamId: r.streamId, version: r.version, position: r.position }).toEqual({
        streamId,
        version,
        position,
      });
    const rows = await db.pool.query("SELECT DISTINCT stream_id FROM events WHERE metadata->>'commandId' = $1", [
      commandId,
    ]);
    expect(rows.rows).toEqual([{ stream_id: streamId }]);
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
    // Written as an earlier release stored it: street/zip/countryCode, schema_version 1 (as the
    // owner: the app's role cannot insert into events directly).
    await db.ownerPool.query(
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

describe('a command decided on what the caller already read', () => {
  it('reads the stream once, runs the boundary check on that state, and refuses what it refuses', async () => {
    const addressId = randomUUID();
    await ledger.handle(register(addressId));
    let reads = 0;
    const store = {
      ...ledger.store,
      readStream: (...args: Parameters<typeof ledger.store.readStream>) => {
        reads++;
        return ledger.store.readStream(...args);
      },
      loadForCommand: (...args: Parameters<typeof ledger.store.loadForCommand>) => {
        reads++;
        return ledger.store.loadForCommand(...args);
      },
    };
    const handle = createCommandHandler<AddressState, AddressCommand, AddressEvent>({
      store,
      decider: addressDecider,
      streamIdOf: (command) => addressStreamId(command.data.addressId),
      schemaVersionOf: (event) => CURRENT_SCHEMA_VERSIONS[event.type],
    });
    const { events: history } = await ledger.loadAddress(addressId);
    const change = (postalCode: string): AddressCommand => ({
      type: 'ChangeAddress',
      data: { addressId, changes: { postalCode } },
      metadata: metadata(),
    });

    // 04210 → SW1A 1AA would leave a British postcode on a US address.
    const refused = handle(change('SW1A 1AA'), {
      expectedVersion: 1,
      history,
      check: postalCodeFitsCountry({ postalCode: 'SW1A 1AA' }, 'changes'),
    });
    await expect(refused).rejects.toMatchObject({ issues: [{ path: 'changes.postalCode' }] });
    await expect(refused).rejects.toBeInstanceOf(InvalidInputError);

    const saved = await handle(change('04211'), {
      expectedVersion: 1,
      history,
      check: postalCodeFitsCountry({ postalCode: '04211' }, 'changes'),
    });
    expect(saved).toMatchObject({ version: 2, appended: 1 });
    expect(reads).toBe(0);

    // A copy that has gone stale is caught by the append's version check; without an expected
    // version the handler then decides again on a fresh read.
    const stale = handle(change('04212'), { history });
    await expect(stale).resolves.toMatchObject({ version: 3 });
    expect(reads).toBe(1);
  });
});
