/**
 * The commands and events every contender of the write scenarios gets alike: distinct addresses
 * (the duplicate guard refuses two active addresses with the same normalised fields), valid
 * histories made by the project's own decider, and the event shapes the store appends.
 */
import { randomUUID } from 'node:crypto';
import {
  type AddressCommand,
  type AddressEvent,
  type AddressFieldsInput,
  addressDecider,
  CURRENT_SCHEMA_VERSIONS,
} from '@/domain/address';
import type { NewEvent } from '@/domain/event-store/postgres-event-store';
import type { CommandMetadata } from '@/domain/messages';

export const BENCH_ACTOR = { id: 'bench', name: 'Benchmark', role: 'operator' as const };

let minted = 0;

/** An address no other call of this process returns (a house number of its own). */
export function benchAddress(): AddressFieldsInput {
  minted++;
  return { line1: `${minted} Benchmark Road`, city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' };
}

export function commandMetadata(): CommandMetadata {
  const commandId = randomUUID();
  return { commandId, correlationId: commandId, actor: BENCH_ACTOR, source: 'api' };
}

export function registerCommand(addressId: string = randomUUID()): AddressCommand {
  return { type: 'RegisterAddress', data: { addressId, fields: benchAddress() }, metadata: commandMetadata() };
}

let changes = 0;

/** A change that always changes something (a new owner reference each time). */
export function changeCommand(addressId: string): AddressCommand {
  changes++;
  return {
    type: 'ChangeAddress',
    data: { addressId, changes: { owner: `bench owner ${changes}` } },
    metadata: commandMetadata(),
  };
}

/** A correction of version `corrects` that always changes something (a new owner reference). */
export function correctCommand(addressId: string, corrects: number): AddressCommand {
  changes++;
  return {
    type: 'CorrectAddress',
    data: { addressId, corrects, fields: { owner: `bench correction ${changes}` }, reason: 'bench' },
    metadata: commandMetadata(),
  };
}

/** Undoes version `version` (the newest: any older one conflicts with the owner changes after it). */
export function revertCommand(addressId: string, version: number): AddressCommand {
  return { type: 'RevertChange', data: { addressId, version, reason: 'bench' }, metadata: commandMetadata() };
}

/** A registration followed by `length - 1` changes, each decided on the state before it. */
export function historyOf(addressId: string, length: number): AddressEvent[] {
  const events: AddressEvent[] = [];
  let state = addressDecider.initialState();
  for (let i = 0; i < length; i++) {
    const command = i === 0 ? registerCommand(addressId) : changeCommand(addressId);
    for (const event of addressDecider.decide(command, state)) {
      events.push(event);
      state = addressDecider.evolve(state, event);
    }
  }
  return events;
}

export const toNewEvents = (events: readonly AddressEvent[]): NewEvent[] =>
  events.map((e) => ({ ...e, schemaVersion: CURRENT_SCHEMA_VERSIONS[e.type] }));
