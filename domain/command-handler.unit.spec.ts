import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AddressCommand,
  type AddressEvent,
  type AddressState,
  addressDecider,
  addressLookbackSnapshots,
  addressLookbackSnapshotsKeeping,
  addressSnapshots,
  addressStreamId,
  CURRENT_SCHEMA_VERSIONS,
  DomainError,
  replay,
  replayWithLookback,
} from './address';
import {
  ADDRESS_ID,
  archiveAddress,
  changeAddress,
  correctAddress,
  decideOnEveryVersion,
  registerAddress,
  restoreAddress,
  revertChange,
  stateToDecide,
  testMetadata,
  usFields,
} from './address/testing';
import { createBatchCommandHandler, createCommandHandler, hashRequest, type SnapshotPolicy } from './command-handler';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from './event-store/errors';
import type { EventStore, NewEvent } from './event-store/event-store';
import { createInMemoryEventStore } from './event-store/in-memory-event-store';
import type { RecordedEvent } from './messages';

/*
 * The command handler's branches against the EventStore interface (an in-memory store); the
 * Postgres store's own guarantees are proven in domain/event-store/*.int.spec.ts.
 */
const STREAM = addressStreamId(ADDRESS_ID);
let ids = 0;
/** Each command with its own id, as every caller sends them. */
const fresh = <C extends AddressCommand>(command: C, commandId = `cmd-${++ids}`): C => ({
  ...command,
  metadata: { ...command.metadata, commandId },
});
const cityChanged = (city: string): NewEvent => ({
  type: 'AddressChanged',
  schemaVersion: 1,
  data: { addressId: ADDRESS_ID, changes: { city } },
  metadata: { ...testMetadata, commandId: `other-${city}` },
});

function setup(
  options: {
    beforeAppend?: (streamId: string) => Promise<void> | void;
    snapshots?: SnapshotPolicy<AddressState>;
    lookbackSnapshots?: SnapshotPolicy<AddressState>;
  } = {},
) {
  const memory = createInMemoryEventStore({ beforeAppend: (id) => options.beforeAppend?.(id) });
  const handle = createCommandHandler<AddressState, AddressCommand, AddressEvent>({
    store: memory.store,
    decider: addressDecider,
    streamIdOf: (command) => addressStreamId(command.data.addressId),
    schemaVersionOf: (event) => CURRENT_SCHEMA_VERSIONS[event.type],
    snapshots: options.snapshots,
    lookbackSnapshots: options.lookbackSnapshots,
  });
  const events = () => memory.store.readStream(STREAM) as Promise<RecordedEvent<AddressEvent>[]>;
  return { ...memory, handle, events };
}

describe('a repeated command (idempotency)', () => {
  it('answers its first result without deciding or appending again', async () => {
    const { handle, calls, events } = setup();
    const register = fresh(registerAddress());
    const first = await handle(register);
    expect(first).toMatchObject({ streamId: STREAM, version: 1, appended: 1, replayed: false });
    let decided = false;
    const again = await handle(register, { check: () => (decided = true) });
    expect(again).toEqual({ ...first, appended: 0, replayed: true });
    expect(decided).toBe(false);
    expect(calls.append).toBe(1);
    expect(await events()).toHaveLength(1);
  });

  it('refuses the same id with another request, and appends nothing', async () => {
    const { handle, events } = setup();
    await handle(fresh(registerAddress()));
    const change = fresh(changeAddress({ city: 'Chicago' }), 'same-id');
    await handle(change);
    const other = { ...change, data: { ...change.data, changes: { city: 'Berlin' } } };
    await expect(handle(other)).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect((await events()).map((e) => e.type)).toEqual(['AddressRegistered', 'AddressChanged']);
  });

  it('answers the result of the same command when it won the race on the stream meanwhile', async () => {
    const register = fresh(registerAddress());
    let raced = false;
    const memory = setup({
      beforeAppend: async () => {
        if (raced) return;
        raced = true;
        // The same form submitted twice: the other request appends first.
        await memory.handle(register);
      },
    });
    const result = await memory.handle(register);
    expect(result).toMatchObject({ streamId: STREAM, version: 1, appended: 0, replayed: true });
    expect(await memory.events()).toHaveLength(1);
  });
});

describe('a conflict with the version the caller saw', () => {
  it('is found before deciding: nothing appended, no retry', async () => {
    const { handle, calls, events } = setup();
    await handle(fresh(registerAddress()));
    await handle(fresh(changeAddress({ city: 'Chicago' })));
    const stale = handle(fresh(changeAddress({ city: 'Berlin' })), { expectedVersion: 1 });
    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    await expect(stale).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(calls.append).toBe(2);
    expect(await events()).toHaveLength(2);
  });

  it('is the caller’s also when another writer appends between the read and the append', async () => {
    let race = false;
    const memory = setup({ beforeAppend: () => void (race && memory.insert(STREAM, [cityChanged('Chicago')])) });
    await memory.handle(fresh(registerAddress()));
    race = true;
    const result = memory.handle(fresh(changeAddress({ city: 'Berlin' })), { expectedVersion: 1 });
    await expect(result).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(memory.calls.append).toBe(2);
    expect((await memory.events()).map((e) => e.data)).not.toContainEqual(
      expect.objectContaining({ changes: { city: 'Berlin' } }),
    );
  });
});

describe('a race without an expected version (imports, scripts)', () => {
  it('is decided again on the fresh state and appended on top of the writers that won', async () => {
    let wins = 0;
    const memory = setup({
      beforeAppend: () => {
        if (wins === 0) return;
        wins--;
        memory.insert(STREAM, [cityChanged(`W${wins}`)]);
      },
    });
    await memory.handle(fresh(registerAddress()));
    wins = 2;
    const result = await memory.handle(fresh(archiveAddress('moved')));
    expect(result).toMatchObject({ version: 4, appended: 1, replayed: false });
    expect(memory.calls.append).toBe(4);
    expect((await memory.events()).map((e) => e.type)).toEqual([
      'AddressRegistered',
      'AddressChanged',
      'AddressChanged',
      'AddressArchived',
    ]);
  });

  it('gives up with a conflict after 10 retries when another writer always wins', async () => {
    let race = false;
    const memory = setup({ beforeAppend: () => void (race && memory.insert(STREAM, [cityChanged('X')])) });
    await memory.handle(fresh(registerAddress()));
    race = true;
    await expect(memory.handle(fresh(archiveAddress('moved')))).rejects.toBeInstanceOf(VersionConflictError);
    expect(memory.calls.append).toBe(1 + 11);
    expect((await memory.events()).some((e) => e.type === 'AddressArchived')).toBe(false);
  });
});

describe('snapshots', () => {
  const every = (n: number, shape = addressSnapshots.shape): SnapshotPolicy<AddressState> => ({
    ...addressSnapshots,
    every: n,
    shape,
  });
  /** Keeping 2 values per field, so reverts of older changes read the whole stream. */
  const lookbackEvery = (n: number, kept = 2): SnapshotPolicy<AddressState> => ({
    ...addressLookbackSnapshotsKeeping(kept),
    every: n,
  });
  const snapshotOf = (memory: ReturnType<typeof setup>, kind: string) =>
    [...memory.snapshots.values()].find((s) => s.kind === kind);
  /** Runs `command` and returns the state it was decided on (the `check` hook sees it). */
  async function decidedOn(
    handle: ReturnType<typeof setup>['handle'],
    command: AddressCommand,
  ): Promise<AddressState | null> {
    let seen: AddressState | null = null;
    try {
      await handle(fresh(command), { check: (state) => (seen = state) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
    return seen;
  }

  it('are written once enough events were folded, and read with the events after them', async () => {
    const memory = setup({ snapshots: every(3) });
    await memory.handle(fresh(registerAddress()));
    await memory.handle(fresh(changeAddress({ city: 'A' })));
    expect(memory.snapshots.size).toBe(0);
    await memory.handle(fresh(changeAddress({ city: 'B' })));
    const [stored] = [...memory.snapshots.values()];
    expect(stored).toMatchObject({ kind: 'address', shape: addressSnapshots.shape, version: 3 });
    expect(stored!.state).toEqual(replay(await memory.events()));
    // The next command reads the snapshot and no event at all.
    const before = await memory.events();
    expect(await decidedOn(memory.handle, changeAddress({ city: 'C' }))).toEqual(replay(before));
  });

  it('of another state shape are not read: the state is rebuilt from the events, and a snapshot of its shape written', async () => {
    const memory = setup({ snapshots: every(2, addressSnapshots.shape + 1) });
    await memory.handle(fresh(registerAddress()));
    // A snapshot that lies about the state, of the layout before this code's.
    await memory.store.saveSnapshot(STREAM, {
      kind: 'address',
      shape: addressSnapshots.shape,
      version: 1,
      state: { ...replay(await memory.events()), fields: null },
    });
    await memory.handle(fresh(changeAddress({ city: 'A' })));
    const before = await memory.events();
    expect(await decidedOn(memory.handle, changeAddress({ city: 'B' }))).toEqual(replay(before));
    expect([...memory.snapshots.values()].map((s) => [s.shape, s.version])).toEqual([
      [addressSnapshots.shape, 1],
      [addressSnapshots.shape + 1, 2],
    ]);
  });

  it('give the state and the decisions a full replay gives, for random command histories and snapshot intervals (property)', async () => {
    const city = fc.constantFrom('A', 'B', 'C');
    const version = fc.integer({ min: 1, max: 12 });
    const command = fc.oneof(
      city.map((c) => changeAddress({ city: c })),
      fc.constantFrom('1 Main St', '2 Elm St').map((line1) => changeAddress({ line1 })),
      fc.constant(archiveAddress('moved')),
      fc.constant(restoreAddress()),
      fc.tuple(version, city).map(([v, c]) => correctAddress(v, { city: c })),
      version.map((v) => revertChange(v)),
    );
    /** What deciding on every version's fields (as before the state lost its history) appends. */
    const reference = (c: AddressCommand, before: readonly AddressEvent[]) => {
      try {
        return decideOnEveryVersion(c, before).map((e) => [e.type, e.data]);
      } catch (error) {
        if (error instanceof DomainError) return [];
        throw error;
      }
    };
    const refused = (c: AddressCommand, before: readonly AddressEvent[]) => {
      try {
        decideOnEveryVersion(c, before);
        return false;
      } catch (error) {
        if (error instanceof DomainError) return true;
        throw error;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 30 }), fc.integer({ min: 1, max: 7 }), async (commands, n) => {
        const lookback = lookbackEvery(Math.max(1, n - 2));
        const current = setup({ snapshots: every(n), lookbackSnapshots: lookback });
        await current.handle(fresh(registerAddress()));
        // Only a command decided on the current state writes its snapshot, once it folded n events
        // and was not refused (a revert writes the lookback's; the registration folded 1).
        let due = n === 1;
        for (const c of commands) {
          const before = await current.events();
          // What the handler decided on: the current state, or the lookback of every version for a
          // revert (from a snapshot, with the last values only: compared as the snapshot keeps it) ...
          const seen = await decidedOn(current.handle, c);
          if (c.type === 'RevertChange') {
            expect(lookback.toJson(seen!)).toEqual(lookback.toJson(stateToDecide(c, before)));
          } else {
            expect(seen).toEqual(stateToDecide(c, before));
          }
          // ... and so what it appended.
          const appended = (await current.events()).slice(before.length).map((e) => [e.type, e.data]);
          expect(appended).toEqual(reference(c, before));
          if (c.type !== 'RevertChange' && !refused(c, before) && before.length + appended.length >= n) due = true;
        }
        const all = await current.events();
        const snapshot = snapshotOf(current, 'address');
        if (snapshot) {
          expect(snapshot.state).toEqual(replay(all.slice(0, snapshot.version)));
          expect(snapshot.state).not.toHaveProperty('history');
        }
        if (due) expect(snapshot).toBeDefined();
        // Written by reverts only, with the lookback of every version up to its own.
        const withLookback = snapshotOf(current, addressLookbackSnapshots.kind);
        if (withLookback) {
          expect(withLookback.state).toEqual(lookback.toJson(replayWithLookback(all.slice(0, withLookback.version))));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('of the current state are not read for a revert, which is decided on the lookback of every version of the stream', async () => {
    const memory = setup({ snapshots: every(2) });
    await memory.handle(fresh(registerAddress()));
    await memory.handle(fresh(changeAddress({ city: 'A' })));
    await memory.handle(fresh(changeAddress({ city: 'B' })));
    const before = await memory.events();
    // The snapshot (at version 2), made to lie: it says the address has no fields.
    const [key, stored] = [...memory.snapshots.entries()][0]!;
    expect(stored.version).toBe(2);
    memory.snapshots.set(key, { ...stored, state: { ...replay(before.slice(0, 2)), fields: null } });
    await expect(memory.handle(fresh(changeAddress({ city: 'C' })))).rejects.toBeInstanceOf(DomainError);
    expect(await decidedOn(memory.handle, revertChange(3))).toEqual(replayWithLookback(before));
    expect((await memory.events()).slice(before.length).map((e) => [e.type, e.data])).toEqual([
      [
        'AddressCorrected',
        {
          addressId: ADDRESS_ID,
          corrects: 3,
          fields: { city: 'A' },
          reason: 'entered on the wrong address',
          revertOf: 3,
        },
      ],
    ]);
  });

  it('of the lookback of every version are written by reverts and read by the next revert only', async () => {
    const lookback = lookbackEvery(2);
    const memory = setup({ snapshots: every(100), lookbackSnapshots: lookback });
    await memory.handle(fresh(registerAddress()));
    await memory.handle(fresh(changeAddress({ city: 'A' })));
    await memory.handle(fresh(changeAddress({ city: 'B' })));
    await memory.handle(fresh(revertChange(3)));
    const written = snapshotOf(memory, addressLookbackSnapshots.kind)!;
    expect(written.version).toBe(4);
    expect(written.state).toEqual(lookback.toJson(replayWithLookback(await memory.events())));
    // A change reads the current state's kind, which has none yet, so it folds every event.
    const before = await memory.events();
    expect(await decidedOn(memory.handle, changeAddress({ city: 'C' }))).toEqual(replay(before));
    // The next revert reads it (made to carry a mark here) and the one event after it.
    const key = [...memory.snapshots.entries()].find(([, s]) => s.kind === addressLookbackSnapshots.kind)![0];
    const marked = { ...(written.state as AddressState), fields: { ...replay(before).fields!, owner: 'marked' } };
    memory.snapshots.set(key, { ...written, state: marked });
    const seen = await decidedOn(memory.handle, revertChange(5));
    expect(seen).toMatchObject({ version: 5, fields: { city: 'C', owner: 'marked' } });
    expect(seen?.lookback?.versionsOf.AddressChanged).toEqual([
      [2, 3],
      [5, 5],
    ]);
  });

  it('of the lookback keep the last values only: a revert of an older change is decided on the whole stream', async () => {
    const memory = setup({ lookbackSnapshots: lookbackEvery(1, 1) });
    await memory.handle(fresh(registerAddress()));
    await memory.handle(fresh(changeAddress({ city: 'A' })));
    await memory.handle(fresh(changeAddress({ city: 'B' })));
    await memory.handle(fresh(revertChange(3)));
    // The snapshot at 4 keeps the city before version 4 only (B), not the one before version 2.
    expect(snapshotOf(memory, addressLookbackSnapshots.kind)).toMatchObject({
      version: 4,
      state: { lookback: { changes: { city: { versions: '1-4', before: ['B'] } } } },
    });
    const before = await memory.events();
    const loads = memory.calls.loadForCommand;
    const seen = await decidedOn(memory.handle, revertChange(2));
    expect(memory.calls.loadForCommand).toBe(loads + 1);
    // Decided on every event (as without the snapshot): the city before version 2, and the later
    // changes of it that refuse the revert.
    expect(seen).toEqual(replayWithLookback(before));
    const refused = await memory.handle(fresh(revertChange(2))).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'revert_conflict', conflicts: [{ field: 'city', versions: [3, 4] }] });
    expect(() => decideOnEveryVersion(revertChange(2), before)).toThrow(/city \(changed again in version 3, 4\)/);
  });
});

describe('a command that starts a stream', () => {
  it('is appended without reading the stream first (one call to the store)', async () => {
    const { handle, calls, events } = setup();
    expect(await handle(fresh(registerAddress()))).toMatchObject({ version: 1, appended: 1, replayed: false });
    expect(calls).toMatchObject({ append: 1, loadForCommand: 0 });
    expect(await events()).toHaveLength(1);
  });

  it('on a stream that exists is decided on the stored state, as any other command', async () => {
    const { handle, calls, events } = setup();
    await handle(fresh(registerAddress()));
    await handle(fresh(changeAddress({ city: 'Chicago' })));
    const again = handle(fresh(registerAddress()));
    await expect(again).rejects.toBeInstanceOf(DomainError);
    expect(calls.loadForCommand).toBe(2);
    expect(await events()).toHaveLength(2);
  });
});

describe('a batch of registrations the store refuses as a whole (handleBatch)', () => {
  /** A store whose batches and appends fail for one stream, as the duplicate guard does. */
  function refusingOne(culprit: string) {
    const memory = createInMemoryEventStore();
    const calls = { batches: 0, singles: 0 };
    const refusal = () => new DuplicateAddressError(culprit, 'address-holder');
    const store: EventStore = {
      ...memory.store,
      async appendBatch(items) {
        calls.batches++;
        if (items.some((item) => item.streamId === culprit)) throw refusal();
        return memory.store.appendBatch(items);
      },
      async append(streamId, events, options) {
        calls.singles++;
        if (streamId === culprit) throw refusal();
        return memory.store.append(streamId, events, options);
      },
    };
    const handleBatch = createBatchCommandHandler<AddressState, AddressCommand, AddressEvent>({
      store,
      decider: addressDecider,
      streamIdOf: (command) => addressStreamId(command.data.addressId),
      schemaVersionOf: (event) => CURRENT_SCHEMA_VERSIONS[event.type],
      isRuleError: (error) => error instanceof DomainError,
    });
    return { handleBatch, calls, memory };
  }
  const registrations = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      fresh(registerAddress({ ...usFields, line1: `${i} Main Street` }, `a-${i}`), `import-${i}`),
    );

  it('halves the batch until only the culprit is left: every other command goes in, in a few round trips', async () => {
    const commands = registrations(1000);
    const { handleBatch, calls, memory } = refusingOne(addressStreamId('a-617'));
    const refused: unknown[] = [];
    const outcomes = await handleBatch(commands, { onBatchRefused: (error) => refused.push(error) });

    expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.error)).toEqual([expect.any(DuplicateAddressError)]);
    expect(outcomes[617]).toMatchObject({ ok: false });
    expect(outcomes.filter((o) => o.ok && o.result.appended === 1)).toHaveLength(999);
    expect(await memory.store.streamVersion(addressStreamId('a-616'))).toBe(1);
    expect(await memory.store.streamVersion(addressStreamId('a-617'))).toBe(0);
    // 1 + 2 per halving (⌈log2 1000⌉ = 10) batches, and the culprit alone on the single path;
    // one command at a time would have been 1,000 appends.
    expect(calls.batches).toBeLessThanOrEqual(21);
    expect(calls.singles).toBe(1);
    // Reported once, not once per halving.
    expect(refused).toHaveLength(1);
  });

  it('answers the commands the caller names for a refused batch and sends the rest again, without halving', async () => {
    const commands = registrations(1000);
    const { handleBatch, calls, memory } = refusingOne(addressStreamId('a-617'));
    const seen: number[] = [];
    const outcomes = await handleBatch(commands, {
      answerRefused: async (error, part) => {
        seen.push(part.length);
        const i = part.findIndex(
          (c) => error instanceof DuplicateAddressError && addressStreamId(c.data.addressId) === error.streamId,
        );
        return new Map(i < 0 ? [] : [[i, error]]);
      },
    });

    expect(outcomes[617]).toEqual({ ok: false, error: expect.any(DuplicateAddressError) });
    expect(outcomes.filter((o) => o.ok && o.result.appended === 1)).toHaveLength(999);
    expect(await memory.store.streamVersion(addressStreamId('a-618'))).toBe(1);
    // The refused batch and the rest of it again; no single command.
    expect(calls).toEqual({ batches: 2, singles: 0 });
    expect(seen).toEqual([1000]);
  });

  it('halves a refused batch when the caller names none of it', async () => {
    const commands = registrations(64);
    const { handleBatch, calls } = refusingOne(addressStreamId('a-5'));
    const outcomes = await handleBatch(commands, {
      answerRefused: async () => new Map([[64, new Error('out of range')]]),
    });
    expect(outcomes.filter((o) => !o.ok)).toHaveLength(1);
    expect(outcomes[5]).toMatchObject({ ok: false, error: expect.any(DuplicateAddressError) });
    expect(calls.singles).toBe(1);
    expect(calls.batches).toBeGreaterThan(2);
  });

  it('throws what is not about one command (the database is down) instead of splitting', async () => {
    const memory = createInMemoryEventStore();
    const handleBatch = createBatchCommandHandler<AddressState, AddressCommand, AddressEvent>({
      store: {
        ...memory.store,
        appendBatch: async () => {
          throw new Error('connection terminated');
        },
      },
      decider: addressDecider,
      streamIdOf: (command) => addressStreamId(command.data.addressId),
      schemaVersionOf: (event) => CURRENT_SCHEMA_VERSIONS[event.type],
      isRuleError: (error) => error instanceof DomainError,
    });
    await expect(handleBatch(registrations(4))).rejects.toThrow('connection terminated');
  });
});

describe('hashRequest', () => {
  /** The first implementation: every stored request hash was made by it. */
  const reference = (value: unknown): string => {
    const stable = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(stable)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v as object)
                .sort()
                .map((k) => [k, stable((v as Record<string, unknown>)[k])]),
            )
          : v;
    return createHash('sha256')
      .update(JSON.stringify(stable(value)) ?? 'undefined')
      .digest('hex');
  };

  it('hashes as the stored hashes were made', () => {
    // Made with the reference before hashRequest was rewritten: a re-run of an import, or a
    // retried request, must still match the record of its first run.
    const registration = {
      type: 'RegisterAddress',
      data: {
        addressId: '2f0c1e7a-0000-8000-8000-000000000001',
        fields: { line1: '80 Third Street', city: 'Auburn', postalCode: '04210', country: 'US', region: 'Maine' },
      },
    };
    expect(hashRequest(registration)).toBe('babc0cf91af28325d05ccd25df533151d4ebe8afe5fd6475c1ebe9be92264243');
    const body = {
      method: 'POST',
      path: '/api/addresses',
      body: { z: 1, 10: 'b', 2: 'a', a: [3, null, { y: 'é', x: true }] },
    };
    expect(hashRequest(body)).toBe('4a0fac7d0fa404214790c0372ccaf23869eac692c7db07e9537cb0cbc344450a');
  });

  it('gives what the reference gives for any value: index-like keys, holes, undefined, dates, nesting', () => {
    const key = fc.oneof(
      fc.string(),
      fc.nat().map(String),
      fc.constantFrom('0', '01', '-1', '1.5', '4294967294', '4294967295', '99999999999', '__proto__', 'toJSON'),
    );
    const value = fc.letrec((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, undefined, true, false, Number.NaN, -0, Number.POSITIVE_INFINITY),
        fc.double(),
        fc.string(),
        fc.date({ noInvalidDate: true }),
        fc.array(tie('any'), { maxLength: 4 }),
        fc.sparseArray(tie('any'), { maxLength: 4 }),
        fc.dictionary(key, tie('any'), { maxKeys: 5 }),
      ),
    })).any;
    fc.assert(
      fc.property(value, (v) => {
        expect(hashRequest(v)).toBe(reference(v));
      }),
      { numRuns: 2000 },
    );
  });
});
