/**
 * The envelope every command and event travels in. Pure types: no runtime code lives here, so the
 * domain stays free of clocks, randomness and infrastructure.
 */

export type Role = 'operator' | 'auditor' | 'admin';

export interface Actor {
  id: string;
  name: string;
  /** `system` is for work no person started (imports run by a token have a real role). */
  role: Role | 'system';
}

export type Source = 'ui' | 'api' | 'import';

/** What the caller supplies with every command. Ids come in here so `decide` stays deterministic. */
export interface CommandMetadata {
  commandId: string;
  correlationId: string;
  causationId?: string;
  actor: Actor;
  source: Source;
}

export interface Command<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata: CommandMetadata;
}

/** Event metadata as the decider produces it; `recordedAt` is added by the database on append. */
export interface EventMetadata {
  actor: Actor;
  commandId: string;
  correlationId: string;
  causationId?: string;
  reason?: string;
  source: Source;
  recordedAt?: string;
}

export interface Event<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata: EventMetadata;
}

/** An event as stored: the envelope plus its place in its stream and in the global order. */
export type RecordedEvent<E extends Event = Event> = E & {
  eventId: string;
  streamId: string;
  streamVersion: number;
  /** Global position (bigint in the database; a decimal string keeps it exact in JSON). */
  position: string;
  schemaVersion: number;
  recordedAt: string;
  metadata: EventMetadata & { recordedAt: string };
};

/** Emmett-style decider: all business rules of one aggregate, as pure functions. */
export interface Decider<State, C extends Command, E extends Event> {
  decide(command: C, state: State): E[];
  /** Applies one event; the state counts its own version (events are replayed in stream order). */
  evolve(state: State, event: E): State;
  /** `evolve` over many events at once, for a state that is costly to copy per event (linear). */
  evolveAll?(state: State, events: readonly E[]): State;
  initialState(): State;
  /**
   * For a command whose decision needs more of the past than the state keeps (Address: a revert
   * reads every version), the state to fold its stream from; the handler then reads the snapshot
   * of `lookbackSnapshots` (command-handler.ts), not the ordinary one. `undefined` (or no such
   * method): initialState() and the ordinary snapshot.
   */
  initialStateFor?(command: C): State | undefined;
  /**
   * Whether `state`, folded from a lookback snapshot and the events after it, has what deciding
   * `command` needs; `false`: the handler folds the whole stream from `initialStateFor` instead
   * (Address: such a snapshot keeps the values of each field's last changes only, and a revert of
   * an older change needs the value it replaced). Absent: always.
   */
  canDecide?(command: C, state: State): boolean;
}
