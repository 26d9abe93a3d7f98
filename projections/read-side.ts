import type pg from 'pg';
import { addressStreamId } from '@/domain/address';
import { requireDatabaseUrl } from '@/lib/db';
import { ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { subscribe } from '@/lib/pg-listen';
import { type AddressDoc, replayAddresses } from './address-view/projection';
import { loadDoc } from './address-view/writer';
import { PROJECTED_CHANNEL } from './checkpoints';
import { parkedAddressIds } from './parking';
import { createPgPool, type Queryable } from './pg';
import { createSearchIndex, searchConfigFromEnv } from './search/factory';
import {
  type PublicAddress,
  publicAddress,
  type SearchHit,
  type SearchIndex,
  type SearchIndexHealth,
  type SearchQuery,
  type SearchResult,
} from './search/search-index';
import { getProjectionStatus, type ProjectorStatus } from './status';

/**
 * What the app reads (route handlers, pages): the address_view read model, search, lag and
 * status. One pool and one search index per process and DATABASE_URL (tests point DATABASE_URL
 * at their own database, as lib/db.ts allows).
 */
export interface ReadSide {
  pool: pg.Pool;
  search: SearchIndex;
}

const globalForReadSide = globalThis as unknown as { __ledgerReadSide?: Map<string, ReadSide> };

export function readSide(): ReadSide {
  const url = requireDatabaseUrl();
  globalForReadSide.__ledgerReadSide ??= new Map();
  let side = globalForReadSide.__ledgerReadSide.get(url);
  if (!side) {
    const pool = createPgPool(url, { max: 5, applicationName: 'ledger-read' });
    const config = searchConfigFromEnv('search');
    // The Postgres search shares the read pool unless it has a database of its own.
    const sharePool = config.backend === 'postgres' && (!config.databaseUrl || config.databaseUrl === url);
    side = { pool, search: createSearchIndex(config, sharePool ? { pool } : {}) };
    globalForReadSide.__ledgerReadSide.set(url, side);
  }
  return side;
}

/**
 * An address as the read side shows it. `upToDate: false`: a projection parked this address (one
 * of its events could not be applied), so what the read models show may be older than its events
 * (projections/README.md "Parked addresses"); null when that could not be asked.
 */
export type ReadAddress = PublicAddress & { upToDate: boolean | null };

/** `upToDate` for each address (one query for a page of them); null for all when Postgres cannot be asked. */
async function withUpToDate<T extends { id: string }>(
  q: Queryable,
  items: T[],
): Promise<(T & { upToDate: boolean | null })[]> {
  let parked: Set<string> | null;
  try {
    parked = await parkedAddressIds(
      q,
      items.map((i) => i.id),
    );
  } catch (error) {
    logger.warn({ err: String((error as Error).message ?? error) }, 'parked addresses unavailable');
    parked = null;
  }
  return items.map((i) => ({ ...i, upToDate: parked ? !parked.has(i.id) : null }));
}

export async function getAddress(id: string, q: Queryable = readSide().pool): Promise<ReadAddress | null> {
  const doc = await loadDoc(q, id);
  return doc ? (await withUpToDate(q, [publicAddress(doc)]))[0]! : null;
}

export type AddressAtVersion =
  | { state: 'ready'; address: ReadAddress; source: 'read-model' | 'event-store' }
  | { state: 'missing' };

/**
 * The address from the read model, waiting up to `timeoutMs` for it to reach `minVersion` (the
 * version a command just returned), so a client can read its own write. The wait sleeps until the
 * projector NOTIFYs that address_view moved on (one LISTEN connection per process, shared by all
 * waiting requests: lib/pg-listen.ts), with a slow poll behind it in case a notification is lost;
 * it used to poll the read model about 30 times in 5 s. A version the event store does not have
 * yet is not waited for at all.
 *
 * When the read model cannot answer (the projector is stopped, or has not seen this address yet)
 * the document is folded from the address's own events with the same projection function, so the
 * answer is what the read model will hold: `source` says which one answered.
 */
export async function getAddressAtLeast(
  id: string,
  minVersion: number,
  options: { timeoutMs?: number; signal?: AbortSignal; q?: Queryable } = {},
): Promise<AddressAtVersion> {
  const q = options.q ?? readSide().pool;
  const ready = (doc: AddressDoc | null) => doc !== null && doc.version >= minVersion;
  let doc = await loadDoc(q, id);
  // The stream's head row, not its events: a long history would be read whole for one number.
  if (!ready(doc) && minVersion > 0 && (await ledger().store.streamVersion(addressStreamId(id))) >= minVersion) {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    let wake: (() => void) | null = null;
    const unsubscribe = subscribe(requireDatabaseUrl(), PROJECTED_CHANNEL, logger, (projection) => {
      if (projection === undefined || projection === 'address_view') wake?.();
    });
    try {
      while (!ready(doc) && Date.now() < deadline && !options.signal?.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(FALLBACK_POLL_MS, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          options.signal?.addEventListener('abort', wake, { once: true });
        });
        wake = null;
        doc = await loadDoc(q, id);
      }
    } finally {
      unsubscribe();
    }
  }
  if (ready(doc)) {
    return { state: 'ready', address: (await withUpToDate(q, [publicAddress(doc!)]))[0]!, source: 'read-model' };
  }
  // Folded from the address's own events just now: current whatever the projections hold.
  const fromEvents = await addressFromEvents(id);
  return fromEvents
    ? { state: 'ready', address: { ...publicAddress(fromEvents), upToDate: true }, source: 'event-store' }
    : { state: 'missing' };
}

/** Behind the NOTIFY: how often a waiting read looks again on its own. */
const FALLBACK_POLL_MS = 1_000;

/** The read-model document of one address, folded straight from its stream (authoritative). */
export async function addressFromEvents(id: string): Promise<AddressDoc | null> {
  const { events } = await ledger().loadAddress(id);
  return replayAddresses(events).get(id) ?? null;
}

export interface SearchLag {
  events: number;
  seconds: number;
  /** The search projection's last attempt failed (the index may be missing recent changes). */
  failing: boolean;
}

/**
 * Search plus how far the index is behind the event store. The search itself reads only the
 * index; the lag needs Postgres, and is null (not an error) when Postgres cannot be asked, so
 * search keeps answering from Meilisearch while the database is down.
 */
export async function searchAddresses(
  query: SearchQuery,
  side: ReadSide = readSide(),
): Promise<Omit<SearchResult, 'hits'> & { hits: (SearchHit & { upToDate: boolean | null })[]; lag: SearchLag | null }> {
  const [result, lag] = await Promise.all([side.search.search(query), searchLag(side.pool)]);
  return { ...result, hits: await withUpToDate(side.pool, result.hits), lag };
}

async function searchLag(q: Queryable): Promise<SearchLag | null> {
  try {
    const status = await getProjectionStatus(q);
    const p = status.projections.find((s) => s.name === 'address_search');
    return p ? { events: p.lagEvents, seconds: p.lagSeconds, failing: p.failing } : null;
  } catch (error) {
    logger.warn({ err: String((error as Error).message ?? error) }, 'search lag unavailable');
    return null;
  }
}

export async function projectionStatus(side: ReadSide = readSide()): Promise<ProjectorStatus & { search: string }> {
  return { ...(await getProjectionStatus(side.pool)), search: side.search.backend };
}

export interface ReadSideHealth {
  search: SearchIndexHealth & { ms: number };
  projector:
    | {
        status: 'ok' | 'degraded';
        projections: Array<{
          name: string;
          alive: boolean;
          failing: boolean;
          lagEvents: number;
          lagSeconds: number;
          complete: boolean | null;
          incompleteRange: { from: string; to: string } | null;
          parked: number;
        }>;
      }
    | { status: 'unknown'; error: string };
}

/** Search and projector health for /api/health (the database check stays with the app). */
export async function readSideHealth(side: ReadSide = readSide()): Promise<ReadSideHealth> {
  const started = performance.now();
  const [search, projector] = await Promise.all([
    side.search.health().then((h) => ({ ...h, ms: Math.round(performance.now() - started) })),
    getProjectionStatus(side.pool).then(
      (status) => {
        const projections = status.projections.map((p) => ({
          name: p.name,
          alive: p.alive,
          failing: p.failing,
          lagEvents: p.lagEvents,
          lagSeconds: p.lagSeconds,
          complete: p.complete,
          incompleteRange: p.incompleteRange && { from: p.incompleteRange.from, to: p.incompleteRange.to },
          parked: p.parked.length,
        }));
        // Incomplete (an event was passed but never applied) or parked (an address is held back):
        // the read models are wrong somewhere, whatever the lag says.
        const ok = projections.every((p) => p.alive && !p.failing && p.complete !== false && p.parked === 0);
        return { status: ok ? ('ok' as const) : ('degraded' as const), projections };
      },
      (error: unknown) => ({ status: 'unknown' as const, error: String((error as Error).message ?? error) }),
    ),
  ]);
  return { search, projector };
}
