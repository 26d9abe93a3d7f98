/**
 * Test helpers for the Address decider (tests only: this file imports vitest).
 *
 *   given([registered()]).when(archiveAddress('moved away')).then([archived('moved away')]);
 *   given([]).when(changeAddress({ city: 'X' })).thenThrows(AddressNotFound);
 */
import { expect } from 'vitest';
import type { CommandMetadata } from '../messages';
import type {
  AddressCommand,
  ArchiveAddress,
  ChangeAddress,
  CorrectAddress,
  RegisterAddress,
  RestoreAddress,
  RevertChange,
} from './commands';
import { decide, eventMetadata, initialStateFor } from './decide';
import {
  AddressIdMismatch,
  AddressNotFound,
  CannotRevert,
  ReasonRequired,
  RevertConflict,
  type RevertConflictDetail,
  UnknownVersion,
} from './errors';
import type {
  AddressArchived,
  AddressChanged,
  AddressCorrected,
  AddressEvent,
  AddressRegistered,
  AddressRestored,
} from './events';
import { evolveAll } from './evolve';
import {
  ADDRESS_FIELDS,
  type AddressFieldChanges,
  type AddressFields,
  type AddressFieldsInput,
  changedFieldNames,
  effectiveChanges,
  isEmptyChanges,
} from './fields';
import { replay, replayWithHistory } from './replay';
import type { AddressState } from './state';

export const ADDRESS_ID = '0b7c2f1e-4d3a-4e8b-9c6f-1a2b3c4d5e6f';

export const testMetadata: CommandMetadata = {
  commandId: 'cmd-1',
  correlationId: 'corr-1',
  actor: { id: 'user-1', name: 'Olga Operator', role: 'operator' },
  source: 'ui',
};

export const usFields: AddressFields = {
  line1: '12 Main Street',
  city: 'Springfield',
  region: 'IL',
  postalCode: '62701',
  country: 'US',
};

// --- commands -------------------------------------------------------------------------------

export const registerAddress = (fields: AddressFieldsInput = usFields, addressId = ADDRESS_ID): RegisterAddress => ({
  type: 'RegisterAddress',
  data: { addressId, fields },
  metadata: testMetadata,
});

export const changeAddress = (
  changes: AddressFieldChanges,
  reason?: string,
  addressId = ADDRESS_ID,
): ChangeAddress => ({
  type: 'ChangeAddress',
  data: reason === undefined ? { addressId, changes } : { addressId, changes, reason },
  metadata: testMetadata,
});

export const correctAddress = (
  corrects: number,
  fields: AddressFieldChanges,
  reason = 'typo when recorded',
  addressId = ADDRESS_ID,
): CorrectAddress => ({
  type: 'CorrectAddress',
  data: { addressId, corrects, fields, reason },
  metadata: testMetadata,
});

export const revertChange = (
  version: number,
  reason = 'entered on the wrong address',
  addressId = ADDRESS_ID,
): RevertChange => ({
  type: 'RevertChange',
  data: { addressId, version, reason },
  metadata: testMetadata,
});

export const archiveAddress = (reason = 'moved away', addressId = ADDRESS_ID): ArchiveAddress => ({
  type: 'ArchiveAddress',
  data: { addressId, reason },
  metadata: testMetadata,
});

export const restoreAddress = (reason?: string, addressId = ADDRESS_ID): RestoreAddress => ({
  type: 'RestoreAddress',
  data: reason === undefined ? { addressId } : { addressId, reason },
  metadata: testMetadata,
});

// --- events (metadata as the decider derives it from testMetadata) ------------------------------

export const registered = (fields: AddressFields = usFields, addressId = ADDRESS_ID): AddressRegistered => ({
  type: 'AddressRegistered',
  data: { addressId, ...fields },
  metadata: eventMetadata(testMetadata),
});

export const changed = (changes: AddressFieldChanges, reason?: string, addressId = ADDRESS_ID): AddressChanged => ({
  type: 'AddressChanged',
  data: { addressId, changes },
  metadata: eventMetadata(testMetadata, reason),
});

export const corrected = (
  corrects: number,
  fields: AddressFieldChanges,
  reason = 'typo when recorded',
  revertOf?: number,
  addressId = ADDRESS_ID,
): AddressCorrected => ({
  type: 'AddressCorrected',
  data:
    revertOf === undefined
      ? { addressId, corrects, fields, reason }
      : { addressId, corrects, fields, reason, revertOf },
  metadata: eventMetadata(testMetadata, reason),
});

export const reverted = (version: number, fields: AddressFieldChanges, reason = 'entered on the wrong address') =>
  corrected(version, fields, reason, version);

export const archived = (reason = 'moved away', addressId = ADDRESS_ID): AddressArchived => ({
  type: 'AddressArchived',
  data: { addressId, reason },
  metadata: eventMetadata(testMetadata, reason),
});

export const restored = (reason?: string, addressId = ADDRESS_ID): AddressRestored => ({
  type: 'AddressRestored',
  data: reason === undefined ? { addressId } : { addressId, reason },
  metadata: eventMetadata(testMetadata, reason),
});

// --- given / when / then ----------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: any error class constructor, whatever its parameters
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

export interface Then {
  /** The events `decide` emits, compared deeply (data and metadata). `[]` = already satisfied. */
  then(expected: AddressEvent[]): void;
  /** `decide` throws an instance of `errorClass` (optionally with a matching message); returns it. */
  thenThrows<E extends Error>(errorClass: ErrorClass<E>, message?: string | RegExp): E;
}

/**
 * The state the command handler decides `command` on after `events`: the current state (given
 * as `current` when it is at hand), or for a command that needs the past a fold of them all
 * from `initialStateFor`.
 */
export function stateToDecide(
  command: AddressCommand,
  events: readonly AddressEvent[],
  current?: AddressState,
): AddressState {
  const from = initialStateFor(command);
  return from ? evolveAll(from, events) : (current ?? replay(events));
}

/** Each command is decided on the state the command handler folds for it (`stateToDecide`). */
export function given(events: AddressEvent[]): { state: AddressState; when(command: AddressCommand): Then } {
  const current = replay(events);
  return {
    state: current,
    when(command) {
      const state = stateToDecide(command, events, current);
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then is the point of this helper; never awaited
        then(expected) {
          expect(decide(command, state)).toEqual(expected);
        },
        thenThrows<E extends Error>(errorClass: ErrorClass<E>, message?: string | RegExp): E {
          let thrown: unknown;
          let result: AddressEvent[] | undefined;
          try {
            result = decide(command, state);
          } catch (error) {
            thrown = error;
          }
          expect(thrown, `expected ${errorClass.name}, but decide returned ${JSON.stringify(result)}`).toBeInstanceOf(
            errorClass,
          );
          if (message !== undefined) expect((thrown as Error).message).toMatch(message);
          return thrown as E;
        },
      };
    },
  };
}

// --- the reference a revert's decision is compared with ---------------------------------------

/**
 * What `decide` answers for `command` after `events`, with a revert decided as it was before the
 * lookback: on every version's full fields (replayWithHistory), the same checks in the same
 * order. Property tests compare the decider with it, so a lookback that lost or misplaced what a
 * version changed, or the value it had before, shows up as a different decision or error. Every
 * other command is decided on the current state, as the command handler decides it.
 */
export function decideOnEveryVersion(command: AddressCommand, events: readonly AddressEvent[]): AddressEvent[] {
  if (command.type !== 'RevertChange') return decide(command, replay(events));
  const { addressId, version } = command.data;
  const { exists, fields: current, history, ...state } = replayWithHistory(events);
  if (!exists || !current) throw new AddressNotFound(addressId);
  if (state.addressId !== undefined && state.addressId !== addressId) {
    throw new AddressIdMismatch(addressId, state.addressId);
  }
  const reason = typeof command.data.reason === 'string' ? command.data.reason.trim() : '';
  if (reason === '') throw new ReasonRequired(command.type);
  if (!Number.isInteger(version) || version < 1 || version > state.version) {
    throw new UnknownVersion(version, state.version);
  }
  const fieldsAfter = (v: number) => history[v - 1]?.fieldsAfter ?? null;
  const target = history[version - 1]!;
  if (target.type !== 'AddressChanged' && target.type !== 'AddressCorrected') {
    throw new CannotRevert(version, target.type);
  }
  const before = fieldsAfter(version - 1);
  if (!before) throw new CannotRevert(version, target.type);

  const restore: Record<string, string | null> = {};
  for (const name of changedFieldNames(before, target.fieldsAfter)) restore[name] = before[name] ?? null;
  const fields = effectiveChanges(current, restore as AddressFieldChanges);
  if (isEmptyChanges(fields)) return [];

  const conflicts: RevertConflictDetail[] = [];
  for (const name of ADDRESS_FIELDS) {
    if (fields[name] === undefined) continue;
    const versions = history
      .filter((entry) => entry.version > version)
      .filter((entry) => changedFieldNames(fieldsAfter(entry.version - 1), entry.fieldsAfter).includes(name))
      .map((entry) => entry.version);
    if (versions.length > 0) conflicts.push({ field: name, versions });
  }
  if (conflicts.length > 0) throw new RevertConflict(version, conflicts);
  return [
    {
      type: 'AddressCorrected',
      data: { addressId, corrects: version, fields, reason, revertOf: version },
      metadata: eventMetadata(command.metadata, reason),
    },
  ];
}
