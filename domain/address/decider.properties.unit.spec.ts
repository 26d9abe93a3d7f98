import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddressCommand } from './commands';
import { canDecide, decide, initialStateFor } from './decide';
import { DomainError } from './errors';
import type { AddressEvent } from './events';
import { evolve } from './evolve';
import { ADDRESS_FIELDS, type AddressFieldChanges, type AddressFields } from './fields';
import { replay, replayWithHistory, replayWithLookback } from './replay';
import { addressLookbackSnapshotsKeeping, addressSnapshots } from './snapshot';
import { type AddressState, initialState } from './state';
import {
  ADDRESS_ID,
  archiveAddress,
  archived,
  changeAddress,
  changed,
  correctAddress,
  corrected,
  decideOnEveryVersion,
  registerAddress,
  registered,
  restoreAddress,
  restored,
  revertChange,
  stateToDecide,
} from './testing';
import { versionsAfter } from './version-runs';

const RUNS = { numRuns: 200 };

// Small pools, so generated commands often hit the same values (no-ops, conflicts, reverts).
const line1 = fc.constantFrom('1 Main St', '2 Elm St', '3 Oak Ave');
const city = fc.constantFrom('Springfield', 'Chicago', 'Berlin');
const postalCode = fc.constantFrom('62701', '60601', '10115');
const country = fc.constantFrom('US', 'DE');
const optional = fc.constantFrom<string | null>('Apt 4', 'Unit 9', null);
const reason = fc.oneof(
  { arbitrary: fc.constantFrom('moved', 'typo'), weight: 6 },
  { arbitrary: fc.constantFrom('', '  '), weight: 1 },
);

const fieldsArb: fc.Arbitrary<AddressFields> = fc
  .record({ line1, city, postalCode, country, line2: optional, region: optional, owner: optional })
  .map((f) => {
    const out: AddressFields = { line1: f.line1, city: f.city, postalCode: f.postalCode, country: f.country };
    if (f.line2) out.line2 = f.line2;
    if (f.region) out.region = f.region;
    if (f.owner) out.owner = f.owner;
    return out;
  });

const valueArbs = { line1, city, postalCode, country, line2: optional, region: optional, owner: optional };
/** Changes touching one to three fields (sometimes none), so later changes often leave a field alone. */
const changesArb: fc.Arbitrary<AddressFieldChanges> = fc
  .uniqueArray(fc.constantFrom(...ADDRESS_FIELDS), { maxLength: 3 })
  .chain((names) => fc.record(Object.fromEntries(names.map((n) => [n, valueArbs[n]]))))
  .map((changes) => changes as AddressFieldChanges);

const version = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 20 }), weight: 1 },
);

const commandArb: fc.Arbitrary<AddressCommand> = fc.oneof(
  { arbitrary: fieldsArb.map((f) => registerAddress(f)), weight: 1 },
  {
    arbitrary: fc.tuple(changesArb, fc.option(reason, { nil: undefined })).map(([c, r]) => changeAddress(c, r)),
    weight: 5,
  },
  { arbitrary: fc.tuple(version, changesArb, reason).map(([v, c, r]) => correctAddress(v, c, r)), weight: 3 },
  { arbitrary: fc.tuple(version, reason).map(([v, r]) => revertChange(v, r)), weight: 3 },
  { arbitrary: reason.map((r) => archiveAddress(r)), weight: 2 },
  { arbitrary: fc.option(reason, { nil: undefined }).map((r) => restoreAddress(r)), weight: 2 },
);

/** Runs commands one after the other from an empty stream; refused commands are skipped. */
function run(commands: AddressCommand[]): { state: AddressState; events: AddressEvent[] } {
  let state = initialState();
  const events: AddressEvent[] = [];
  for (const command of commands) {
    let emitted: AddressEvent[];
    try {
      emitted = decide(command, stateToDecide(command, events, state));
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    for (const event of emitted) state = evolve(state, event);
    events.push(...emitted);
  }
  return { state, events };
}

const commandsArb = fc
  .tuple(fieldsArb, fc.array(commandArb, { maxLength: 20 }))
  .map(([f, rest]) => [registerAddress(f), ...rest]);

/** Event sequences built directly (not through decide), so replay is tested on shapes decide never makes. */
const eventsArb: fc.Arbitrary<AddressEvent[]> = fc
  .tuple(
    fieldsArb,
    fc.array(
      fc.oneof(
        changesArb.map((c) => changed(c)),
        fc.tuple(fc.integer({ min: 1, max: 5 }), changesArb).map(([v, c]) => corrected(v, c)),
        fc.constant(archived()),
        fc.constant(restored()),
      ),
      { maxLength: 20 },
    ),
  )
  .map(([f, rest]) => [registered(f), ...rest]);

const anyValidEvents = fc.oneof(
  eventsArb,
  commandsArb.map((commands) => run(commands).events),
);

describe('replaying events (property)', () => {
  it('gives the same state every time and the same state when folded in two chunks', () => {
    fc.assert(
      fc.property(anyValidEvents, fc.nat(), (events, cut) => {
        const at = events.length === 0 ? 0 : cut % (events.length + 1);
        const once = replay(events);
        expect(replay(events)).toEqual(once);
        expect(replay(events.slice(at), replay(events.slice(0, at)))).toEqual(once);
        expect(once.version).toBe(events.length);
        expect(once).not.toHaveProperty('history');
        // Keeping every version (its fields, or what a revert reads of it) changes nothing else.
        const { history, ...current } = replayWithHistory(events);
        expect(history).toHaveLength(events.length);
        expect(current).toEqual(once);
        const { lookback, ...withoutLookback } = replayWithLookback(events);
        const versions = Object.values(lookback.versionsOf).flatMap((runs) => versionsAfter(runs, 0));
        expect(versions.sort((a, b) => a - b)).toEqual(history.map((h) => h.version));
        expect(withoutLookback).toEqual(once);
      }),
      RUNS,
    );
  });
});

/** What `run` answers: its events, or the domain error it refused with (name, code, details). */
function outcomeOf(run: () => AddressEvent[]) {
  try {
    return { events: run() };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { refused: [error.name, error.code, error.details, error.message] };
  }
}

const outcome = (command: AddressCommand, state: AddressState) => outcomeOf(() => decide(command, state));

describe('deciding on the state the command handler folds (property)', () => {
  /*
   * Before AddressState lost its history, every command was decided on a fold that kept every
   * version's fields (replayWithHistory). Now the handler decides on a snapshot (JSON, of a state
   * with or without history) plus the events after it, or, for a command that needs the past (a
   * revert), on the whole stream folded from initialStateFor (the lookback of every version), or
   * on the lookback snapshot that reverts write plus the tail: the answers must be the ones
   * deciding on every version's fields gave (decideOnEveryVersion), for every command.
   */
  it('answers every command as a fold keeping every version does, from snapshot + tail or the whole stream', () => {
    fc.assert(
      fc.property(
        anyValidEvents,
        fc.nat(),
        fc.boolean(),
        commandArb,
        fc.integer({ min: 1, max: 3 }),
        (events, cut, withHistory, command, kept) => {
          const at = cut % (events.length + 1);
          const prefix = events.slice(0, at);
          const snapshotOf = withHistory ? replayWithHistory(prefix) : replay(prefix);
          const json = JSON.parse(JSON.stringify(addressSnapshots.toJson(snapshotOf)));
          const current = replay(events.slice(at), addressSnapshots.fromJson(json));
          expect(current).toEqual(replay(events));
          const reference = outcomeOf(() => decideOnEveryVersion(command, events));
          expect(outcome(command, stateToDecide(command, events, current))).toEqual(reference);
          // A revert's own snapshot (the lookback of every version, written by reverts, with the last
          // `kept` values of each field) plus the tail: the same state as it would store it, and the
          // same answer, unless it lacks a value the revert needs and the handler folds every event.
          const policy = addressLookbackSnapshotsKeeping(kept);
          const past = JSON.parse(JSON.stringify(policy.toJson(replayWithLookback(prefix))));
          const fromPast = replay(events.slice(at), policy.fromJson(past));
          expect(policy.toJson(fromPast)).toEqual(policy.toJson(replayWithLookback(events)));
          expect(canDecide(command, replayWithLookback(events))).toBe(true);
          if (initialStateFor(command) && canDecide(command, fromPast)) {
            expect(outcome(command, fromPast)).toEqual(reference);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  /*
   * The lookback keeps per version only its type and what it changed (with the values before),
   * not every version's fields: a revert of any version, on any history (also shapes decide
   * never makes: events before the registration, a second registration, corrections of versions
   * that do not exist), must still restore the same values and refuse with the same error and
   * details (RevertConflict's fields and versions included) as deciding on every version's fields.
   */
  it("decides every revert on the lookback as on every version's fields", () => {
    const anyEvent = fc.oneof(
      { arbitrary: fieldsArb.map((f) => registered(f)), weight: 1 },
      { arbitrary: changesArb.map((c) => changed(c)), weight: 6 },
      { arbitrary: fc.tuple(fc.integer({ min: 0, max: 30 }), changesArb).map(([v, c]) => corrected(v, c)), weight: 4 },
      { arbitrary: fc.constant(archived()), weight: 1 },
      { arbitrary: fc.constant(restored()), weight: 1 },
    );
    const histories = fc.oneof(
      { arbitrary: anyValidEvents, weight: 2 },
      {
        arbitrary: fc
          .tuple(fieldsArb, fc.array(anyEvent, { maxLength: 30 }))
          .map(([f, rest]) => [registered(f), ...rest]),
        weight: 3,
      },
      { arbitrary: fc.array(anyEvent, { maxLength: 30 }), weight: 1 },
    );
    fc.assert(
      fc.property(histories, reason, (events, why) => {
        const state = replayWithLookback(events);
        // Every version, and one past each end (unknown versions).
        for (let v = 0; v <= events.length + 1; v++) {
          const command = revertChange(v, why);
          expect(outcome(command, state)).toEqual(outcomeOf(() => decideOnEveryVersion(command, events)));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('deciding random command sequences (property)', () => {
  it('only ever fails with domain errors, and every emitted event applies and adds exactly one version', () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        let state = initialState();
        const events: AddressEvent[] = [];
        for (const command of commands) {
          let emitted: AddressEvent[];
          try {
            emitted = decide(command, stateToDecide(command, events, state));
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            continue;
          }
          const before = state.version;
          for (const event of emitted) state = evolve(state, event);
          events.push(...emitted);
          expect(state.version).toBe(before + emitted.length);
          expect(state.exists).toBe(true);
          // Required fields never disappear.
          for (const name of ['line1', 'city', 'postalCode', 'country'] as const) {
            expect(state.fields?.[name]).toMatch(/\S/);
          }
        }
      }),
      RUNS,
    );
  });
});

describe('already satisfied commands (property)', () => {
  it('emit nothing when repeated right after they took effect', () => {
    fc.assert(
      fc.property(commandsArb, commandArb, (commands, command) => {
        fc.pre(command.type !== 'RegisterAddress');
        const { state, events } = run(commands);
        let emitted: AddressEvent[];
        try {
          emitted = decide(command, stateToDecide(command, events, state));
        } catch {
          return; // refused: nothing to repeat
        }
        const after = emitted.reduce(evolve, state);
        expect(decide(command, stateToDecide(command, [...events, ...emitted], after))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('emit nothing when a change or correction restates current values, or the status is already reached', () => {
    fc.assert(
      fc.property(commandsArb, fc.subarray([...ADDRESS_FIELDS]), (commands, names) => {
        const { state } = run(commands);
        const fields = state.fields!;
        const same: Record<string, string | null> = {};
        for (const name of names) same[name] = fields[name] ?? null;
        if (state.status === 'active') {
          expect(decide(changeAddress(same as AddressFieldChanges), state)).toEqual([]);
          expect(decide(restoreAddress(), state)).toEqual([]);
        } else {
          expect(decide(archiveAddress('again'), state)).toEqual([]);
        }
        expect(decide(correctAddress(state.version, same as AddressFieldChanges), state)).toEqual([]);
        expect(state.addressId).toBe(ADDRESS_ID);
      }),
      RUNS,
    );
  });
});
