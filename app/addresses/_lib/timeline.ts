import {
  type AddressEvent,
  type AddressEventType,
  type AddressFieldName,
  type AddressStatus,
  changedFieldNames,
  fieldValue,
  replay,
} from '@/domain/address';
import type { Actor, RecordedEvent, Source } from '@/domain/messages';
import { EVENT_LABELS, FIELD_LABELS, timeAgo } from './labels';

export interface FieldDiff {
  field: AddressFieldName;
  before: string | null;
  after: string | null;
}

export interface TimelineEntry {
  version: number;
  type: AddressEventType;
  position: string;
  recordedAt: string;
  actor: Actor;
  source: Source;
  reason?: string;
  commandId: string;
  correlationId: string;
  /** Field values before → after this event, only the fields it changed. */
  diffs: FieldDiff[];
  statusBefore: AddressStatus | null;
  statusAfter: AddressStatus;
  /** For a correction: the version whose recording it fixes. */
  corrects?: number;
  /** For a revert (a correction that undoes one event): the version undone. */
  revertOf?: number;
  /** Later corrections that name this version. */
  correctedBy: number[];
}

/**
 * The audit view of one stream: every event with who, when, why and the exact field diff, computed
 * from the replayed snapshots (so it shows what actually changed, not what a command asked for).
 */
export function buildTimeline(events: readonly RecordedEvent<AddressEvent>[]): TimelineEntry[] {
  const { history } = replay(events);
  const entries: TimelineEntry[] = events.map((event, i) => {
    const before = i > 0 ? (history[i - 1]?.fieldsAfter ?? null) : null;
    const after = history[i]?.fieldsAfter ?? null;
    const diffs = changedFieldNames(before, after).map((field) => ({
      field,
      before: before ? fieldValue(before, field) : null,
      after: after ? fieldValue(after, field) : null,
    }));
    const entry: TimelineEntry = {
      version: event.streamVersion,
      type: event.type,
      position: event.position,
      recordedAt: event.recordedAt,
      actor: event.metadata.actor,
      source: event.metadata.source,
      commandId: event.metadata.commandId,
      correlationId: event.metadata.correlationId,
      diffs,
      statusBefore: i > 0 ? (history[i - 1]?.status ?? null) : null,
      statusAfter: history[i]?.status ?? 'active',
      correctedBy: [],
    };
    const reason = event.metadata.reason ?? ('reason' in event.data ? event.data.reason : undefined);
    if (reason) entry.reason = reason;
    if (event.type === 'AddressCorrected') {
      entry.corrects = event.data.corrects;
      if (event.data.revertOf !== undefined) entry.revertOf = event.data.revertOf;
    }
    return entry;
  });
  for (const entry of entries) {
    if (entry.corrects === undefined) continue;
    entries.find((e) => e.version === entry.corrects)?.correctedBy.push(entry.version);
  }
  return entries;
}

/** Versions a revert may target: changes and corrections (registrations and status events cannot be reverted). */
export function revertibleVersions(entries: readonly TimelineEntry[]): TimelineEntry[] {
  return entries.filter((e) => e.type === 'AddressChanged' || e.type === 'AddressCorrected');
}

/** A value in a one-line summary: quoted length kept short, "not set" for an empty field. */
function short(value: string | null): string {
  if (value === null) return 'not set';
  return value.length > 32 ? `${value.slice(0, 31)}…` : value;
}

/**
 * One version in words, for the correct and revert pickers:
 * `v4 · Changed postal code 04210 → 04211 · Ada · 2 h ago`.
 */
export function versionSummary(entry: TimelineEntry, now: Date): string {
  const what =
    entry.revertOf !== undefined
      ? `Reverted v${entry.revertOf}:`
      : entry.corrects !== undefined
        ? `Corrected v${entry.corrects}:`
        : EVENT_LABELS[entry.type];
  const changes =
    entry.type === 'AddressRegistered'
      ? entry.diffs
          .filter((d) => d.field === 'line1' || d.field === 'city')
          .map((d) => short(d.after))
          .join(', ')
      : entry.diffs
          .map((d) => `${FIELD_LABELS[d.field].toLowerCase()} ${short(d.before)} → ${short(d.after)}`)
          .join(', ');
  return [
    `v${entry.version}`,
    changes ? `${what} ${changes}` : what.replace(/:$/, ''),
    entry.actor.name,
    timeAgo(entry.recordedAt, now),
  ].join(' · ');
}
