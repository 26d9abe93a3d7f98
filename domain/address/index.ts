import type { Decider } from '../messages';
import type { AddressCommand } from './commands';
import { canDecide, decide, initialStateFor } from './decide';
import type { AddressEvent } from './events';
import { evolve, evolveAll } from './evolve';
import { type AddressState, initialState } from './state';

export * from './commands';
export { canDecide, decide, eventMetadata, initialStateFor } from './decide';
export * from './errors';
export * from './events';
export { assertNever, evolve, evolveAll } from './evolve';
export * from './fields';
export * from './merge';
export * from './replay';
export * from './snapshot';
export * from './state';
export * from './stream';
export * from './upcasters';

/** The Address aggregate: all its rules as pure functions (Emmett-style decider). */
export const addressDecider: Decider<AddressState, AddressCommand, AddressEvent> = {
  decide,
  evolve,
  evolveAll,
  initialState,
  initialStateFor,
  canDecide,
};
