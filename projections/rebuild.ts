import { createHash } from 'node:crypto';
import pg from 'pg';
import { compareCursors, decodeCursor } from '@/domain/event-store/cursor';
import type { EventStore } from '@/domain/event-store/postgres-event-store';
import type { RecordedEvent } from '@/domain/messages';
import { advisoryLock } from '@/lib/advisory-locks';
import { createPrisma } from '@/lib/db';
import { createLedger } from '@/lib/ledger';
import { type Logger, logger as rootLogger } from '@/lib/logger';
import { type AddressDoc, foldBatch, type ParkedEvent } from './address-view/projection';
import { ADDRESS_VIEW_TABLE, loadDocs, writeDocs } from './address-view/writer';
import { type ProjectionName, readCheckpoint, setCheckpoint } from './checkpoints';
import { dropDigest, moveDigest, recordDigest } from './completeness';
import { loadParking, replaceParking } from './parking';
import { createPgPool, type Queryable, withTransaction } from './pg';
import { batchLockName } from './runner';
import type { SearchIndex } from './search/search-index';
import { createTableCopy, dropTableCopy, rebuildTableName, settleTable, swapTables } from './table-swap';

/**
 * Rebuild from event zero (DESIGN §5): replay every event into a fresh copy (a new table, a new
 * Meilisearch index) while the live one keeps serving and the live projector keeps running; then,
 * holding the projection's batch lock (the live worker pauses between two batches), catch the
 * copy up to the live checkpoint, verify it against the event store (document count and a
 * checksum of every id:version), and swap it in together with the checkpoint.
 */

export interface RebuildProgress {
  phase: 'replay' | 'catch-up' | 'verify' | 'swap' | 'done';
  projection?: ProjectionName;
  processed: number;
  /** Events in the store when the replay started (grows if more arrive). */
  total: number;
}

export interface RebuildOptions {
  databaseUrl: string;
  /** The live search index; without it only address_view is rebuilt. */
  searchIndex?: SearchIndex | null;
  projections?: readonly ProjectionName[];
  batchSize?: number;
  log?: Logger;
  onProgress?: (progress: RebuildProgress) => void;
  /** Test seams: run between the replay and the swap, with the copies still private. */
  hooks?: { afterReplay?: (targets: readonly RebuildTarget[]) => Promise<void> };
}

export interface RebuildReport {
  projection: ProjectionName;
  events: number;
  documents: number;
  /** Checkpoint the swapped-in copy starts from. */
  cursor: string;
  checksum: string;
  ms: number;
}

export class RebuildVerificationError extends Error {
  constructor(
    readonly projection: string,
    readonly details: { expected: number; actual: number; differences: string[] },
  ) {
    super(
      `rebuilt ${projection} does not match the event store (expected ${details.expected} documents, got ${details.actual}; first differences: ${details.differences.join(', ') || 'checksum only'}); the live copy was left untouched`,
    );
    this.name = 'RebuildVerificationError';
  }
}

export interface RebuildTarget {
  readonly projection: ProjectionName;
  /** Where the copy lives, for logs and tests (a table or index name). */
  readonly location: string;
  load(ids: string[]): Promise<Map<string, AddressDoc>>;
  write(docs: AddressDoc[]): Promise<void>;
  versions(): Promise<Map<string, number>>;
  /** Makes the copy live; `moveCheckpoint` runs in the same transaction where the copy is in Postgres. */
  swap(moveCheckpoint: (q: Queryable) => Promise<void>): Promise<void>;
  discard(): Promise<void>;
}

async function addressViewTarget(pool: pg.Pool): Promise<RebuildTarget> {
  const table = rebuildTableName(ADDRESS_VIEW_TABLE);
  await withTransaction(pool, (client) => createTableCopy(client, ADDRESS_VIEW_TABLE));
  return {
    projection: 'address_view',
    location: table,
    load: (ids) => loadDocs(pool, ids, table),
    write: (docs) => writeDocs(pool, docs, table),
    async versions() {
      const { rows } = await pool.query<{ id: string; version: number }>(
        `SELECT address_id AS id, version FROM ${table}`,
      );
      return new Map(rows.map((r) => [r.id, r.version]));
    },
    async swap(moveCheckpoint) {
      // A copy filled in bulk has no planner statistics until autovacuum comes round: the live
      // table must not lose them with the swap.
      await settleTable(pool, table);
      await withTransaction(pool, async (client) => {
        await swapTables(client, ADDRESS_VIEW_TABLE);
        await moveCheckpoint(client);
      });
    },
    discard: () => withTransaction(pool, (client) => dropTableCopy(client, ADDRESS_VIEW_TABLE)),
  };
}

async function searchTarget(index: SearchIndex, pool: pg.Pool): Promise<RebuildTarget> {
  const rebuild = await index.prepareRebuild();
  return {
    projection: 'address_search',
    location: `${index.backend} rebuild copy`,
    load: (ids) => rebuild.index.getDocuments(ids),
    write: (docs) => rebuild.index.upsert(docs),
    versions: () => rebuild.index.versions(),
    async swap(moveCheckpoint) {
      // Not one transaction with the checkpoint (the index may live elsewhere). A crash between
      // the two leaves the checkpoint behind the swapped-in copy: the worker then re-applies
      // events the copy already has, which the version guard turns into no-ops.
      await rebuild.swap();
      await withTransaction(pool, moveCheckpoint);
    },
    discard: () => rebuild.discard(),
  };
}

/**
 * What a copy carries beside its documents: the digest of the events it passed (written under
 * `<projection>:rebuild` and moved to the projection's name on swap), the streams its replay
 * parked, and the events an admin skipped (they stay skipped).
 */
interface CopyState {
  digestName: string;
  parked: ParkedEvent[];
  held: Set<string>;
  skipped: ReadonlySet<string>;
  /** Streams with a skipped event: their documents differ from a plain fold on purpose. */
  skippedStreams: ReadonlySet<string>;
}

async function apply(pool: pg.Pool, target: RebuildTarget, state: CopyState, events: RecordedEvent[]): Promise<void> {
  const { changed, parked } = await foldBatch(events, (ids) => target.load(ids), {
    held: state.held,
    skipped: state.skipped,
  });
  for (const p of parked) {
    state.parked.push(p);
    state.held.add(p.streamId);
  }
  await target.write(changed);
  await recordDigest(pool, state.digestName, events);
}

/** id → version of every address as of `cursor`, straight from the event store. */
async function expectedVersions(pool: pg.Pool, cursor: string): Promise<Map<string, number>> {
  const c = decodeCursor(cursor);
  const { rows } = await pool.query<{ id: string; version: number }>(
    `SELECT substr(stream_id, length('address-') + 1) AS id, max(stream_version) AS version
       FROM events
      WHERE stream_id LIKE 'address-%' AND (transaction_id, position) <= ($1::xid8, $2::bigint)
      GROUP BY stream_id
     HAVING bool_or(type = 'AddressRegistered')`,
    [c.transactionId, c.position],
  );
  return new Map(rows.map((r) => [r.id, r.version]));
}

export function versionsChecksum(versions: Map<string, number>): string {
  const hash = createHash('sha256');
  for (const id of [...versions.keys()].sort()) hash.update(`${id}:${versions.get(id)}\n`);
  return hash.digest('hex');
}

async function verify(pool: pg.Pool, target: RebuildTarget, cursor: string, state: CopyState) {
  const [expected, actual] = await Promise.all([expectedVersions(pool, cursor), target.versions()]);
  // A parked address is behind on purpose (it shows as parked), and one with a skipped event
  // differs from a plain fold on purpose (a skipped registration leaves no document): the digest
  // still covers their events.
  for (const streamId of [...state.parked.map((p) => p.streamId), ...state.skippedStreams]) {
    expected.delete(streamId.slice('address-'.length));
    actual.delete(streamId.slice('address-'.length));
  }
  const checksum = versionsChecksum(expected);
  if (expected.size !== actual.size || checksum !== versionsChecksum(actual)) {
    const differences: string[] = [];
    for (const [id, v] of expected) {
      if (actual.get(id) !== v) differences.push(`${id}: expected v${v}, got ${actual.get(id) ?? 'none'}`);
      if (differences.length >= 5) break;
    }
    for (const id of actual.keys()) {
      if (differences.length >= 5) break;
      if (!expected.has(id)) differences.push(`${id}: not in the event store`);
    }
    throw new RebuildVerificationError(target.projection, {
      expected: expected.size,
      actual: actual.size,
      differences,
    });
  }
  return { documents: actual.size, checksum };
}

/**
 * Applies the events after `from` up to and including `to`. Everything up to `to` is final (the
 * live worker already read it gap-safely), so the first N events the store returns after `from`
 * are exactly that range, N counted in SQL.
 */
async function catchUp(
  pool: pg.Pool,
  store: Pick<EventStore, 'readAll'>,
  target: RebuildTarget,
  state: CopyState,
  range: { from: string; to: string },
  batchSize: number,
): Promise<number> {
  const from = decodeCursor(range.from);
  const to = decodeCursor(range.to);
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events
      WHERE (transaction_id, position) > ($1::xid8, $2::bigint) AND (transaction_id, position) <= ($3::xid8, $4::bigint)`,
    [from.transactionId, from.position, to.transactionId, to.position],
  );
  const count = rows[0]!.n;
  let remaining = count;
  let after = range.from;
  while (remaining > 0) {
    const page = await store.readAll({ after, limit: Math.min(batchSize, remaining) });
    if (page.events.length === 0) throw new Error(`catch-up found fewer events than the ${count} counted`);
    await apply(pool, target, state, page.events);
    remaining -= page.events.length;
    after = page.next;
  }
  return count;
}

export async function rebuildProjections(options: RebuildOptions): Promise<RebuildReport[]> {
  const log = options.log ?? rootLogger.child({ component: 'rebuild' });
  const batchSize = options.batchSize ?? 2_000;
  const pool = createPgPool(options.databaseUrl, { max: 4, applicationName: 'projections-rebuild' });
  const prisma = createPrisma(options.databaseUrl, { max: 2 });
  const store = createLedger(prisma).rawStore;
  const wanted = new Set(options.projections ?? ['address_view', 'address_search']);
  const targets: RebuildTarget[] = [];
  const started = Date.now();
  const progress = (p: RebuildProgress) => options.onProgress?.(p);

  try {
    if (wanted.has('address_view')) targets.push(await addressViewTarget(pool));
    if (wanted.has('address_search') && options.searchIndex) {
      targets.push(await searchTarget(options.searchIndex, pool));
    }
    if (targets.length === 0) return [];
    const states = new Map<RebuildTarget, CopyState>();
    for (const target of targets) {
      const digestName = `${target.projection}:rebuild`;
      await dropDigest(pool, digestName);
      const { skipped, skippedStreams } = await loadParking(pool, target.projection);
      states.set(target, { digestName, parked: [], held: new Set(), skipped, skippedStreams });
    }

    // 1. Replay everything into the private copies, one pass over the store for all of them.
    let total = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
    let processed = 0;
    let cursor = '0-0';
    progress({ phase: 'replay', processed, total });
    // The next page is read while this one is applied, and the copies are written side by side:
    // one after the other, a rebuild of 131,650 events spent 24 s writing the search copy and
    // then 8 s the view's, with the database's second core idle. Each copy still takes its
    // pages in order.
    let page = await store.readAll({ after: cursor, limit: batchSize });
    while (page.events.length > 0) {
      const next = page.events.length < batchSize ? null : store.readAll({ after: page.next, limit: batchSize });
      // Awaited below; until then a failure of this page's writes must not leave it unhandled.
      next?.catch(() => {});
      const events = page.events;
      await Promise.all(targets.map((target) => apply(pool, target, states.get(target)!, events)));
      processed += events.length;
      cursor = page.next;
      total = Math.max(total, processed);
      progress({ phase: 'replay', processed, total });
      if (!next) break;
      page = await next;
    }
    log.info({ events: processed, cursor }, 'replay done; catching up and swapping');
    await options.hooks?.afterReplay?.(targets);

    // 2. Per projection: pause its live worker between batches, catch up, verify, swap.
    const reports: RebuildReport[] = [];
    for (const target of [...targets]) {
      const name = target.projection;
      const state = states.get(target)!;
      const lock = new pg.Client({ connectionString: options.databaseUrl, application_name: 'projections-rebuild' });
      await lock.connect();
      try {
        await advisoryLock(lock, batchLockName(name));
        const live = (await readCheckpoint(pool, name)).cursor;
        let final = cursor;
        let events = processed;
        if (compareCursors(decodeCursor(live), decodeCursor(cursor)) > 0) {
          progress({ phase: 'catch-up', projection: name, processed, total });
          events += await catchUp(pool, store, target, state, { from: cursor, to: live }, batchSize);
          final = live;
        }
        progress({ phase: 'verify', projection: name, processed, total });
        const { documents, checksum } = await verify(pool, target, final, state);
        progress({ phase: 'swap', projection: name, processed, total });
        await target.swap(async (q) => {
          await setCheckpoint(q, name, final, { expected: live, eventsProcessed: events });
          await moveDigest(q, state.digestName, name);
          await replaceParking(q, name, state.parked);
        });
        targets.splice(targets.indexOf(target), 1);
        const report = { projection: name, events, documents, cursor: final, checksum, ms: Date.now() - started };
        log.info(report, 'rebuilt and swapped in');
        reports.push(report);
      } finally {
        await lock.end().catch(() => {});
      }
    }
    progress({ phase: 'done', processed, total });
    return reports;
  } finally {
    // Whatever was not swapped in (an error, a failed verification) is thrown away.
    for (const target of targets) {
      await target.discard().catch(() => {});
      await dropDigest(pool, `${target.projection}:rebuild`).catch(() => {});
    }
    await Promise.allSettled([pool.end(), prisma.$disconnect()]);
  }
}
