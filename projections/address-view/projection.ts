import {
  type AddressEvent,
  type AddressFields,
  type AddressFieldsInput,
  applyChanges,
  assertNever,
  isAddressEventType,
  isAddressStreamId,
  normalizeFields,
  upcast,
} from '@/domain/address';
import type { Actor, RecordedEvent } from '@/domain/messages';
import { describeError } from '../checkpoints';

/**
 * The `address_view` document: the current state of one address as the read side shows it. The
 * same document is what the search index stores, so every backend can fold the next event onto
 * what it already holds.
 */
export interface AddressDoc {
  id: string;
  streamId: string;
  /** Stream version of the last event folded in: a replayed event at or below it is a no-op. */
  version: number;
  status: 'active' | 'archived';
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  country: string;
  owner: string | null;
  archivedReason: string | null;
  /** ISO-8601, from the database clock of the events (never the projector's clock). */
  registeredAt: string;
  updatedAt: string;
  lastEventType: string;
  /** Global position of the last event folded in (decimal string: bigint in the database). */
  lastPosition: string;
  lastActor: Actor;
}

const UNKNOWN_ACTOR: Actor = { id: 'unknown', name: 'unknown', role: 'system' };

/**
 * Folds one event onto the current document. Pure and total: events of other streams, events of
 * types this code does not know yet (a newer writer) and events already applied return the input
 * unchanged, so the projection can be run any number of times over the same events.
 */
export function projectAddress(doc: AddressDoc | null, event: RecordedEvent): AddressDoc | null {
  if (!isAddressStreamId(event.streamId)) return doc;
  if (doc && event.streamVersion <= doc.version) return doc;

  if (!isAddressEventType(event.type)) {
    // A type from a newer writer: its effect is unknown, but the stream did move on. Counting the
    // version keeps `version` equal to the stream's (rebuild verification and ?minVersion rely on
    // that); the fields stay as they were until a projector that knows the type replays it.
    return doc ? { ...doc, version: event.streamVersion, lastPosition: event.position } : null;
  }

  const e = event as unknown as RecordedEvent<AddressEvent>;
  const touched = (d: AddressDoc): AddressDoc => ({
    ...d,
    version: e.streamVersion,
    updatedAt: e.recordedAt,
    lastEventType: e.type,
    lastPosition: e.position,
    lastActor: e.metadata?.actor ?? UNKNOWN_ACTOR,
  });

  switch (e.type) {
    case 'AddressRegistered': {
      const { addressId: _, ...input } = e.data;
      const fields = normalizeFields(input as AddressFieldsInput);
      return touched({
        // The stream names the address; every reader keys documents by it (see addressIdOf).
        id: addressIdOf(e)!,
        streamId: e.streamId,
        version: e.streamVersion,
        status: 'active',
        ...fieldColumns(fields),
        archivedReason: null,
        // A second registration of the same stream is not something the decider emits; if one
        // ever appears it replaces the fields (as `evolve` does) but the address keeps its age.
        registeredAt: doc?.registeredAt ?? e.recordedAt,
        updatedAt: e.recordedAt,
        lastEventType: e.type,
        lastPosition: e.position,
        lastActor: UNKNOWN_ACTOR,
      });
    }
    case 'AddressChanged':
      return doc ? touched({ ...doc, ...fieldColumns(applyChanges(docFields(doc), e.data.changes)) }) : null;
    case 'AddressCorrected':
      // `fields` holds the corrected values themselves, so a correction applies like a change.
      return doc ? touched({ ...doc, ...fieldColumns(applyChanges(docFields(doc), e.data.fields)) }) : null;
    case 'AddressArchived':
      return doc ? touched({ ...doc, status: 'archived', archivedReason: e.data.reason ?? null }) : null;
    case 'AddressRestored':
      return doc ? touched({ ...doc, status: 'active', archivedReason: null }) : null;
    default:
      return assertNever(e);
  }
}

/** The stream moved on, the fields did not (an unknown type, or an event an admin skipped). */
function countVersionOnly(doc: AddressDoc | null, event: RecordedEvent): AddressDoc | null {
  return doc ? { ...doc, version: event.streamVersion, lastPosition: event.position } : null;
}

/** Brings a stored event to its current shape through the domain's upcasters; throws when it cannot. */
export function upcastStored(event: RecordedEvent): RecordedEvent {
  const current = upcast(event);
  return { ...event, type: current.type, schemaVersion: current.schemaVersion, data: current.data };
}

/** An event a projection could not apply: its stream is parked from here on. */
export interface ParkedEvent {
  streamId: string;
  eventId: string;
  type: string;
  position: string;
  streamVersion: number;
  error: string;
}

export interface FoldOptions {
  /** Stored shape → current shape (default: the domain's upcasters). A throw parks the stream. */
  upcast?: (event: RecordedEvent) => RecordedEvent;
  /** Streams already parked: their events wait (a retry resumes them from the event store). */
  held?: ReadonlySet<string>;
  /** Event ids an admin skipped: they count for the version and change nothing else. */
  skipped?: ReadonlySet<string>;
}

export interface FoldResult {
  /** Documents that changed, to be written. */
  changed: AddressDoc[];
  /** Events whose type this code does not know (skipped, but logged by the caller). */
  unknownTypes: string[];
  /** Streams parked by this fold, at the event that threw. */
  parked: ParkedEvent[];
}

/**
 * Folds a batch onto the documents it touches. `load` fetches the current documents (from the
 * read model or the search index: each projection folds onto what its own store holds). An event
 * that cannot be read or applied parks its stream instead of failing the batch: one bad event
 * must not stop every other address (its stream's later events wait in `held`).
 */
export async function foldBatch(
  events: readonly RecordedEvent[],
  load: (ids: string[]) => Promise<Map<string, AddressDoc>>,
  options: FoldOptions = {},
): Promise<FoldResult> {
  const read = options.upcast ?? upcastStored;
  const held = new Set(options.held);
  // A stream whose first event here is its first (version 1, a registration) has its whole
  // history in the batch: the fold starts from nothing whatever is stored, and a stored newer
  // version (a replay) is kept by the writers' version guard. Not loading those is most of an
  // import's documents (bench "projector during the import").
  const firstVersion = new Map<string, number>();
  for (const event of events) {
    const id = addressIdOf(event);
    if (id !== null && !firstVersion.has(id)) firstVersion.set(id, event.streamVersion);
  }
  const docs = await load([...firstVersion].filter(([, version]) => version > 1).map(([id]) => id));
  const changed = new Map<string, AddressDoc>();
  const unknownTypes: string[] = [];
  const parked: ParkedEvent[] = [];
  for (const event of events) {
    const id = addressIdOf(event);
    if (id === null || held.has(event.streamId)) continue;
    const before = docs.get(id) ?? null;
    // Already applied (a replay, or a resumed stream read from its start): nothing to read.
    if (before && event.streamVersion <= before.version) continue;
    let after: AddressDoc | null;
    if (options.skipped?.has(event.eventId)) {
      after = countVersionOnly(before, event);
    } else {
      try {
        const current = read(event);
        if (!isAddressEventType(current.type)) unknownTypes.push(current.type);
        after = projectAddress(before, current);
      } catch (error) {
        held.add(event.streamId);
        parked.push({
          streamId: event.streamId,
          eventId: event.eventId,
          type: event.type,
          position: event.position,
          streamVersion: event.streamVersion,
          error: describeError(error).slice(0, 2_000),
        });
        continue;
      }
    }
    if (after && after !== before) {
      docs.set(id, after);
      changed.set(id, after);
    }
  }
  return { changed: [...changed.values()], unknownTypes, parked };
}

/** Folds a whole history (any order of streams, each stream in version order) into documents. */
export function replayAddresses(events: Iterable<RecordedEvent>, into = new Map<string, AddressDoc>()) {
  for (const event of events) {
    const id = addressIdOf(event);
    if (id === null) continue;
    const next = projectAddress(into.get(id) ?? null, event);
    if (next) into.set(id, next);
  }
  return into;
}

/** The address id an event belongs to, or null for events of other streams. */
export function addressIdOf(event: Pick<RecordedEvent, 'streamId'>): string | null {
  return isAddressStreamId(event.streamId) ? event.streamId.slice('address-'.length) : null;
}

export function docFields(doc: AddressDoc): AddressFields {
  const fields: AddressFields = { line1: doc.line1, city: doc.city, postalCode: doc.postalCode, country: doc.country };
  if (doc.line2 !== null) fields.line2 = doc.line2;
  if (doc.region !== null) fields.region = doc.region;
  if (doc.owner !== null) fields.owner = doc.owner;
  return fields;
}

function fieldColumns(fields: AddressFields) {
  return {
    line1: fields.line1,
    line2: fields.line2 ?? null,
    city: fields.city,
    region: fields.region ?? null,
    postalCode: fields.postalCode,
    country: fields.country,
    owner: fields.owner ?? null,
  };
}
