import 'server-only';
import type pg from 'pg';
import { createPgPool } from '@/projections/pg';
import { createSearchIndex, searchConfigFromEnv } from '@/projections/search/factory';
import type { SearchIndex, SearchQuery, SearchResult } from '@/projections/search/search-index';
import { getProjectionStatus } from '@/projections/status';

export interface SearchLag {
  /** Committed events the search index has not applied yet. */
  events: number;
  seconds: number;
}

export type AddressSearchResult = SearchResult & { lag: SearchLag | null };

const globalForSearch = globalThis as unknown as { __addressPageSearch?: { index: SearchIndex; pool: pg.Pool } };

function search() {
  if (!globalForSearch.__addressPageSearch) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    globalForSearch.__addressPageSearch = {
      index: createSearchIndex(searchConfigFromEnv()),
      pool: createPgPool(url, { max: 2, applicationName: 'ledger-search-page' }),
    };
  }
  return globalForSearch.__addressPageSearch;
}

/** Search the read model, with how far the search projection is behind the event store. */
export async function searchAddresses(query: SearchQuery): Promise<AddressSearchResult> {
  const { index, pool } = search();
  const [result, status] = await Promise.all([index.search(query), getProjectionStatus(pool).catch(() => null)]);
  const projection = status?.projections.find((p) => p.name === 'address_search');
  const lag = projection ? { events: projection.lagEvents, seconds: projection.lagSeconds } : null;
  return { ...result, lag };
}
