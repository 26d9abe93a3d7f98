import type pg from 'pg';
import { createMeilisearchIndex, DEFAULT_MEILI_INDEX } from './meilisearch-search-index';
import { createPostgresSearchIndex } from './postgres-search-index';
import type { SearchBackend, SearchIndex } from './search-index';

export interface SearchConfig {
  backend: SearchBackend;
  meiliUrl?: string;
  meiliApiKey?: string;
  meiliIndex: string;
  /** The Postgres search backend's database (default DATABASE_URL). */
  databaseUrl?: string;
}

/**
 * SEARCH_BACKEND=meilisearch (with MEILI_URL, optional MEILI_API_KEY and MEILI_INDEX) selects
 * Meilisearch; anything else the Postgres search on SEARCH_DATABASE_URL or DATABASE_URL.
 */
export function searchConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SearchConfig {
  const backend = env.SEARCH_BACKEND?.trim().toLowerCase() === 'meilisearch' ? 'meilisearch' : 'postgres';
  if (backend === 'meilisearch' && !env.MEILI_URL) {
    throw new Error(
      'SEARCH_BACKEND=meilisearch needs MEILI_URL (and MEILI_API_KEY unless the server has no master key)',
    );
  }
  return {
    backend,
    meiliUrl: env.MEILI_URL,
    meiliApiKey: env.MEILI_API_KEY || undefined,
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
