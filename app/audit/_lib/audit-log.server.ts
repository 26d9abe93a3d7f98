import { type AddressEvent, addressStreamId, upcast } from '@/domain/address';
import { EVENT_COLUMNS, type EventRow, recordedEvent } from '@/domain/event-store/postgres-event-store';
import type { RecordedEvent } from '@/domain/messages';
import { Prisma } from '@/generated/prisma/client';
import type { Db } from '@/lib/db';
import { type AuditCursor, encodeAuditCursor } from './audit-cursor';
import type { AuditPageResponse } from './audit-page';
import { type AuditRow, auditRows, newestVersions } from './audit-rows';
import { type AuditFilter, formatQuery, type Term } from './qualifiers';

/**
 * The audit log: every event of the store (exact, not a projection), newest first, filtered.
 *
 * Paging is a keyset on `position` descending inside one database snapshot, taken when the first
 * page is read and carried in the cursor. Positions are handed out at insert time but commit in
 * another order, so "position below the last one shown" alone could show an event that committed
 * late on page 3 that was not there when page 1 was read, and a reader that started at the newest
 * visible position could miss one that commits later below it. With the snapshot, the pages of
 * one walk are exactly the events visible at its start: each once, none added or lost while new
 * events arrive. A new walk (the first page again) sees the newer ones.
 *
 * Each filter has an index that ends in `position` (migration 20261201030000_audit_indexes), so a
 * page reads about as many rows as it shows.
 */

/** NULL for an event without a reason: the trigram index holds only the others (migration 20261206010000). */
const REASON = Prisma.raw(`coalesce(e.metadata ->> 'reason', e.data ->> 'reason')`);

/** The API token suffix of an actor name (lib/auth/tokens.ts tokenActor). */
const TOKEN_SUFFIX = ' (api token)';

function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The SQL conditions of a filter, on `events e`. */
export function filterConditions(filter: AuditFilter): Prisma.Sql[] {
  const where: Prisma.Sql[] = [];
  if (filter.actors.length > 0) {
    const names = filter.actors.flatMap((a) => [a.toLowerCase(), `${a.toLowerCase()}${TOKEN_SUFFIX}`]);
    where.push(Prisma.sql`(e.metadata #>> '{actor,id}' = ANY(${filter.actors}::text[])
      OR lower(e.metadata #>> '{actor,name}') = ANY(${names}::text[]))`);
  }
  if (filter.types.length > 0) where.push(Prisma.sql`e.type = ANY(${filter.types}::text[])`);
  if (filter.sources.length > 0) where.push(Prisma.sql`e.metadata ->> 'source' = ANY(${filter.sources}::text[])`);
  if (filter.from) {
    where.push(
      filter.from.inclusive
        ? Prisma.sql`e.recorded_at >= ${filter.from.at}::timestamptz`
        : Prisma.sql`e.recorded_at > ${filter.from.at}::timestamptz`,
    );
  }
  if (filter.to) {
    where.push(
      filter.to.inclusive
        ? Prisma.sql`e.recorded_at <= ${filter.to.at}::timestamptz`
        : Prisma.sql`e.recorded_at < ${filter.to.at}::timestamptz`,
    );
  }
  if (filter.addresses.length > 0) {
    where.push(Prisma.sql`e.stream_id = ANY(${filter.addresses.map(addressStreamId)}::text[])`);
  }
  if (filter.correlations.length > 0) {
    where.push(Prisma.sql`e.metadata ->> 'correlationId' = ANY(${filter.correlations}::text[])`);
  }
  for (const reason of filter.reasons) where.push(Prisma.sql`${REASON} ILIKE ${likeContains(reason)}`);
  if (filter.cities.length > 0) {
    // The city each event's address had once it applied, kept by a trigger on `events` (migration
    // 20261202040100_audit_event_cities); its (city, position) index gives the page's order.
    const cities = filter.cities.map((c) => c.toLowerCase());
    where.push(
      Prisma.sql`e.position IN (SELECT ac.position FROM audit_event_cities ac WHERE ac.city = ANY(${cities}::text[]))`,
    );
  }
  return where;
}

function whereClause(filter: AuditFilter, cursor: AuditCursor): Prisma.Sql {
  const conditions = [
    Prisma.sql`pg_visible_in_snapshot(e.transaction_id, ${cursor.snapshot}::pg_snapshot)`,
    ...filterConditions(filter),
  ];
  if (cursor.before !== null) conditions.push(Prisma.sql`e.position < ${cursor.before}::bigint`);
  return Prisma.join(conditions, ' AND ');
}

const MAX_IN_FLIGHT = 100;

/** A new walk starts from the database's current snapshot. */
export async function startCursor(db: Db): Promise<AuditCursor> {
  const rows = await db.$queryRaw<{ s: string; xmin: string; n: number }[]>`
    SELECT pg_current_snapshot()::text AS s, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
           (SELECT count(*)::int FROM pg_snapshot_xip(pg_current_snapshot())) AS n`;
  const { s, xmin, n } = rows[0]!;
  // A cursor must stay short: with very many transactions in flight, read only what is older
  // than all of them (the event feed's gap-safe rule); the newest events show on the next walk.
  return { snapshot: n > MAX_IN_FLIGHT ? `${xmin}:${xmin}:` : s, before: null };
}

export interface AuditPage {
  events: RecordedEvent<AddressEvent>[];
  /** Resumes after the last event of this page; null when there is nothing older. */
  next: AuditCursor | null;
  /** The cursor this page was read with (its snapshot is the walk's). */
  cursor: AuditCursor;
}

/** One page, newest first. */
export async function readAuditPage(
  db: Db,
  filter: AuditFilter,
  options: { cursor?: AuditCursor | null; limit: number },
): Promise<AuditPage> {
  const cursor = options.cursor ?? (await startCursor(db));
  const rows = await db.$queryRaw<EventRow[]>`
    SELECT ${EVENT_COLUMNS} FROM events e
    WHERE ${whereClause(filter, cursor)}
    ORDER BY e.position DESC
    LIMIT ${options.limit + 1}`;
  const more = rows.length > options.limit;
  const events = rows.slice(0, options.limit).map(toAddressEvent);
  const last = events.at(-1);
  return { events, cursor, next: more && last ? { snapshot: cursor.snapshot, before: last.position } : null };
}

export interface AuditTotal {
  count: number;
  /** False when there are more than `count` matches (the count stopped there). */
  exact: boolean;
}

/** How many events match, counted up to `cap` + 1 so a broad filter never scans everything. */
export async function countAudit(db: Db, filter: AuditFilter, snapshot: string, cap = 10_000): Promise<AuditTotal> {
  const rows = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM events e WHERE ${whereClause(filter, { snapshot, before: null })} LIMIT ${cap + 1}
    ) capped`;
  const n = rows[0]!.n;
  return n > cap ? { count: cap, exact: false } : { count: n, exact: true };
}

/** Every matching event of one snapshot, newest first, read in keyset batches (for exports). */
export async function* auditBatches(
  db: Db,
  filter: AuditFilter,
  options: { snapshot: string; batchSize?: number },
): AsyncGenerator<RecordedEvent<AddressEvent>[]> {
  let cursor: AuditCursor | null = { snapshot: options.snapshot, before: null };
  while (cursor) {
    const page: AuditPage = await readAuditPage(db, filter, { cursor, limit: options.batchSize ?? 1000 });
    if (page.events.length > 0) yield page.events;
    cursor = page.next;
  }
}

/**
 * Each stream's events up to a version, in stream order: what the rows of a page need to show
 * the values before each change. One query for the whole page (unique index on stream, version).
 */
export async function readStreamPrefixes(
  db: Db,
  upTo: ReadonlyMap<string, number>,
): Promise<Map<string, RecordedEvent<AddressEvent>[]>> {
  const streams = [...upTo.keys()];
  const versions = streams.map((s) => upTo.get(s)!);
  const out = new Map<string, RecordedEvent<AddressEvent>[]>();
  if (streams.length === 0) return out;
  const rows = await db.$queryRaw<EventRow[]>`
    SELECT ${EVENT_COLUMNS} FROM events e
    JOIN unnest(${streams}::text[], ${versions}::int[]) AS w(sid, upto)
      ON e.stream_id = w.sid AND e.stream_version <= w.upto
    ORDER BY e.stream_id, e.stream_version`;
  for (const row of rows) {
    const event = toAddressEvent(row);
    const list = out.get(event.streamId);
    if (list) list.push(event);
    else out.set(event.streamId, [event]);
  }
  return out;
}

function toAddressEvent(row: EventRow): RecordedEvent<AddressEvent> {
  const { transactionId: _, ...event } = recordedEvent(row, upcast);
  return event as RecordedEvent<AddressEvent>;
}

/** A batch of events as audit rows (one extra query for the values before each change). */
export async function describeEvents(db: Db, events: readonly RecordedEvent<AddressEvent>[]): Promise<AuditRow[]> {
  return auditRows(events, await readStreamPrefixes(db, newestVersions(events)));
}

export interface AuditView {
  rows: AuditRow[];
  total: AuditTotal;
  cursor: AuditCursor;
  next: AuditCursor | null;
}

/** What the page and `GET /api/audit` show: one page of rows and the (capped) total of the walk. */
export async function loadAuditView(
  db: Db,
  filter: AuditFilter,
  options: { cursor?: AuditCursor | null; limit: number },
): Promise<AuditView> {
  const page = await readAuditPage(db, filter, options);
  const [rows, total] = await Promise.all([
    describeEvents(db, page.events),
    countAudit(db, filter, page.cursor.snapshot),
  ]);
  return { rows, total, cursor: page.cursor, next: page.next };
}

/** A view as `GET /api/audit` answers it (and as the page's first paint is cached). */
export function auditPageResponse(view: AuditView, terms: Term[]): AuditPageResponse {
  return {
    query: formatQuery(terms),
    terms,
    events: view.rows,
    total: view.total,
    next: view.next ? encodeAuditCursor(view.next) : null,
  };
}
