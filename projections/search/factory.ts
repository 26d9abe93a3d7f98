import type pg from 'pg';
import { createMeilisearchIndex, DEFAULT_MEILI_INDEX } from './meilisearch-search-index';
import { createPostgresSearchIndex } from './postgres-search-index';
import type { SearchBackend, SearchIndex } from './search-index';

export interface SearchConfig {
  backend: SearchBackend;
  meiliUrl?: string;
  /** The Meilisearch key for this process's access (see `SearchAccess`). */
  meiliApiKey?: string;
  meiliIndex: string;
  /** The Postgres search backend's database (default DATABASE_URL). */
  databaseUrl?: string;
}

/**
 * What a process does with the index: `search` (the web tier's search pages and API) or `write`
 * (the projector, rebuilds). Meilisearch gets a key of its own for each (projections/README.md,
 * "Meilisearch keys"), so the web tier can hold one that only searches.
 */
export type SearchAccess = 'search' | 'write';

/**
 * SEARCH_BACKEND=meilisearch (with MEILI_URL, MEILI_INDEX, and MEILI_API_KEY for writing,
 * MEILI_SEARCH_API_KEY for searching) selects Meilisearch; anything else the Postgres search on
 * SEARCH_DATABASE_URL or DATABASE_URL.
 */
export function searchConfigFromEnv(
  access: SearchAccess,
  env: Record<string, string | undefined> = process.env,
): SearchConfig {
  const backend = env.SEARCH_BACKEND?.trim().toLowerCase() === 'meilisearch' ? 'meilisearch' : 'postgres';
  if (backend === 'meilisearch' && !env.MEILI_URL) {
    throw new Error(
      'SEARCH_BACKEND=meilisearch needs MEILI_URL (and MEILI_API_KEY / MEILI_SEARCH_API_KEY unless the server has no master key)',
    );
  }
  // A deployment with one key for everything sets only MEILI_API_KEY; searching then uses it too.
  const key = access === 'search' ? env.MEILI_SEARCH_API_KEY || env.MEILI_API_KEY : env.MEILI_API_KEY;
  return {
    backend,
    meiliUrl: env.MEILI_URL,
    meiliApiKey: key || undefined,
    meiliIndex: env.MEILI_INDEX || DEFAULT_MEILI_INDEX,
    databaseUrl: env.SEARCH_DATABASE_URL || env.DATABASE_URL,
  };
}

export function createSearchIndex(config: SearchConfig, options: { pool?: pg.Pool } = {}): SearchIndex {
  if (config.backend === 'meilisearch') {
    return createMeilisearchIndex({ host: config.meiliUrl!, apiKey: config.meiliApiKey, indexUid: config.meiliIndex });
  }
  if (!options.pool && !config.databaseUrl) throw new Error('the Postgres search backend needs DATABASE_URL');
  return createPostgresSearchIndex(options.pool ? { pool: options.pool } : { connectionString: config.databaseUrl! });
}
