import { type AddressEvent, type AddressEventType, addressIdFromStream, isAddressStreamId } from '@/domain/address';
import type { Actor, RecordedEvent, Source } from '@/domain/messages';
import { EVENT_LABELS, FIELD_LABELS } from '../../addresses/_lib/labels';
import { buildTimeline, type FieldDiff, type TimelineEntry } from '../../addresses/_lib/timeline';

/**
 * One audit row per event, in domain language: what happened with the changed fields before and
 * after ("Postal code 04210 → 04211"), who, how, when and why. The before values come from
 * folding the address's own stream up to the event (the timeline's `buildTimeline`, so the audit
 * log and the address timeline can never disagree).
 */

/** How the actor acted: a browser session (a person's account) or an API token. */
export interface ActedVia {
  kind: 'session' | 'token' | 'system' | 'unknown';
  /** The token's name for `token`; the actor's name otherwise. */
  name: string;
}

export interface AuditRow {
  position: string;
  recordedAt: string;
  addressId: string;
  version: number;
  type: AddressEventType;
  /** "Changed", "Corrected", "Reverted", … */
  label: string;
  /** One line: "Postal code 04210 → 04211; City / town Auburn → Lewiston". */
  summary: string;
  changes: FieldDiff[];
  actor: Actor;
  via: ActedVia;
  source: Source;
  reason?: string;
  correlationId: string;
  commandId: string;
  corrects?: number;
  revertOf?: number;
}

const TOKEN_ID = /^token:/;
const TOKEN_NAME = / \(API token\)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Read from what every event already records: a token's actor is `token:<id>` named
 * `<token name> (API token)` (lib/auth/tokens.ts), a person's actor is their account id (a
 * UUID), only reachable through a session, and the `system` role is work no person started.
 * Anything else (hand-written events, older tools) says "unknown" rather than guess.
 */
export function actedVia(actor: Actor): ActedVia {
  if (TOKEN_ID.test(actor.id)) return { kind: 'token', name: actor.name.replace(TOKEN_NAME, '') };
  if (actor.role === 'system') return { kind: 'system', name: actor.name };
  if (UUID.test(actor.id)) return { kind: 'session', name: actor.name };
  return { kind: 'unknown', name: actor.name };
}

export function formatChange(d: FieldDiff): string {
  return `${FIELD_LABELS[d.field]} ${d.before ?? '(not set)'} → ${d.after ?? '(cleared)'}`;
}

function summarise(entry: TimelineEntry): string {
  if (entry.type === 'AddressRegistered') {
    return entry.diffs.map((d) => `${FIELD_LABELS[d.field]} ${d.after}`).join('; ');
  }
  if (entry.diffs.length > 0) return entry.diffs.map(formatChange).join('; ');
  if (entry.statusBefore !== entry.statusAfter) return `Status ${entry.statusBefore ?? 'new'} → ${entry.statusAfter}`;
  return 'No field values changed';
}

/** The row of `event`, given its stream from version 1 up to at least the event. */
export function auditRow(event: RecordedEvent<AddressEvent>, entry: TimelineEntry): AuditRow {
  const { actor } = event.metadata;
  const row: AuditRow = {
    position: event.position,
    recordedAt: event.recordedAt,
    addressId: isAddressStreamId(event.streamId) ? addressIdFromStream(event.streamId) : event.streamId,
    version: event.streamVersion,
    type: event.type,
    label: entry.revertOf !== undefined ? 'Reverted' : EVENT_LABELS[event.type],
    summary: summarise(entry),
    changes: entry.diffs,
    actor,
    via: actedVia(actor),
    source: event.metadata.source,
    correlationId: event.metadata.correlationId,
    commandId: event.metadata.commandId,
  };
  if (entry.reason) row.reason = entry.reason;
  if (entry.corrects !== undefined) row.corrects = entry.corrects;
  if (entry.revertOf !== undefined) row.revertOf = entry.revertOf;
  return row;
}

/**
 * Rows for a batch of events (any order, any streams), given each stream's events from version 1
 * up to at least its newest event in the batch.
 */
export function auditRows(
  events: readonly RecordedEvent<AddressEvent>[],
  prefixes: ReadonlyMap<string, readonly RecordedEvent<AddressEvent>[]>,
): AuditRow[] {
  const timelines = new Map<string, TimelineEntry[]>();
  return events.map((event) => {
    let timeline = timelines.get(event.streamId);
    if (!timeline) {
      timeline = buildTimeline(prefixes.get(event.streamId) ?? []);
      timelines.set(event.streamId, timeline);
    }
    const entry = timeline[event.streamVersion - 1];
    if (!entry || entry.version !== event.streamVersion) {
      throw new Error(`audit: stream ${event.streamId} is missing versions before ${event.streamVersion}`);
    }
    return auditRow(event, entry);
  });
}

/** The newest version of each stream in a batch: how far its prefix must be read. */
export function newestVersions(events: readonly RecordedEvent[]): Map<string, number> {
  const upTo = new Map<string, number>();
  for (const e of events) upTo.set(e.streamId, Math.max(upTo.get(e.streamId) ?? 0, e.streamVersion));
  return upTo;
}
