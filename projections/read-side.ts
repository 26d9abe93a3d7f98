import type pg from 'pg';
import { requireDatabaseUrl } from '@/lib/db';
import { ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { type AddressDoc, replayAddresses } from './address-view/projection';
import { loadDoc } from './address-view/writer';
import { createPgPool, type Queryable } from './pg';
import { createSearchIndex, searchConfigFromEnv } from './search/factory';
import {
  type PublicAddress,
  publicAddress,
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

export async function getAddress(id: string, q: Queryable = readSide().pool): Promise<PublicAddress | null> {
  const doc = await loadDoc(q, id);
  return doc ? publicAddress(doc) : null;
}

export type AddressAtVersion =
  | { state: 'ready'; address: PublicAddress; source: 'read-model' | 'event-store' }
  | { state: 'missing' };

/**
 * The address from the read model, waiting up to `timeoutMs` for it to reach `minVersion` (the
 * version a command just returned), so a client can read its own write. Polls the primary key
 * with a growing interval: cheap, and it needs no connection held open per waiting request.
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
  const deadline = Date.now() + (minVersion > 0 ? (options.timeoutMs ?? 5_000) : 0);
  let interval = 10;
  for (;;) {
    const doc: AddressDoc | null = await loadDoc(q, id);
    if (doc && doc.version >= minVersion) return { state: 'ready', address: publicAddress(doc), source: 'read-model' };
    if (Date.now() >= deadline || options.signal?.aborted) break;
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
    interval = Math.min(interval * 2, 200);
  }
  const fromEvents = await addressFromEvents(id);
  return fromEvents
    ? { state: 'ready', address: publicAddress(fromEvents), source: 'event-store' }
    : { state: 'missing' };
}

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
): Promise<SearchResult & { lag: SearchLag | null }> {
  const [result, lag] = await Promise.all([side.search.search(query), searchLag(side.pool)]);
  return { ...result, lag };
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
        projections: Array<{ name: string; alive: boolean; failing: boolean; lagEvents: number; lagSeconds: number }>;
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
        }));
        const ok = projections.every((p) => p.alive && !p.failing);
        return { status: ok ? ('ok' as const) : ('degraded' as const), projections };
      },
      (error: unknown) => ({ status: 'unknown' as const, error: String((error as Error).message ?? error) }),
    ),
  ]);
  return { search, projector };
}
