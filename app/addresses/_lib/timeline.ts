import { z } from 'zod';
import {
  ADDRESS_EVENT_TYPES,
  type AddressEvent,
  type AddressEventType,
  type AddressFieldName,
  type AddressFields,
  type AddressStatus,
  changedFieldNames,
  fieldValue,
  replayWithHistory,
} from '@/domain/address';
import type { Actor, RecordedEvent, Source } from '@/domain/messages';
import { EVENT_LABELS, FIELD_LABELS, formatRelative } from './labels';

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
  /** The address's fields once this event applied (what "the address at version N" shows). */
  fieldsAfter: AddressFields | null;
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
  const { history } = replayWithHistory(events);
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
      fieldsAfter: after,
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
 * `v4 · Changed postal code 04210 → 04211 · Ada · 2 hours ago`.
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
    formatRelative(entry.recordedAt, now),
  ].join(' · ');
}

/** Entries per page of a timeline: a 10,000-event history opens with the newest 200. */
export const TIMELINE_PAGE_SIZE = 200;

/** The timeline's filters and page, from the history page's URL; odd values are dropped. */
export const timelineQuery = z.object({
  type: z.enum(ADDRESS_EVENT_TYPES).optional().catch(undefined),
  actor: z
    .string()
    .trim()
    .max(200)
    .transform((v) => v || undefined)
    .optional()
    .catch(undefined),
  /** Show versions below this one (paging backwards). */
  before: z.coerce.number().int().min(2).optional().catch(undefined),
});

export type TimelineQuery = z.output<typeof timelineQuery>;

/** Entries of one type and/or by one actor (name contains, case-insensitive, or the exact id). */
export function filterTimeline(entries: readonly TimelineEntry[], query: TimelineQuery): TimelineEntry[] {
  const actor = query.actor?.toLowerCase();
  return entries.filter(
    (e) =>
      (!query.type || e.type === query.type) &&
      (!actor || e.actor.id.toLowerCase() === actor || e.actor.name.toLowerCase().includes(actor)),
  );
}

/** The newest `size` entries below version `before`, newest first, and where the next page starts. */
export function timelinePage(
  entries: readonly TimelineEntry[],
  before: number | undefined,
  size = TIMELINE_PAGE_SIZE,
): { entries: TimelineEntry[]; olderBefore: number | null } {
  const older = before === undefined ? entries : entries.filter((e) => e.version < before);
  const shown = older.slice(-size).reverse();
  const last = shown.at(-1);
  return { entries: shown, olderBefore: last && older.length > size ? last.version : null };
}
