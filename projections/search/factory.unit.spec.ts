import { describe, expect, it } from 'vitest';
import { searchConfigFromEnv } from './factory';

const meili = { SEARCH_BACKEND: 'meilisearch', MEILI_URL: 'http://meili:7700' };

describe('search settings from the environment', () => {
  it('gives the web tier the search key and the projector the write key', () => {
    const env = { ...meili, MEILI_API_KEY: 'write-key', MEILI_SEARCH_API_KEY: 'search-key' };
    expect(searchConfigFromEnv('search', env).meiliApiKey).toBe('search-key');
    expect(searchConfigFromEnv('write', env).meiliApiKey).toBe('write-key');
  });

  it('searches with the one key when only MEILI_API_KEY is set, but never writes with the search key', () => {
    expect(searchConfigFromEnv('search', { ...meili, MEILI_API_KEY: 'only-key' }).meiliApiKey).toBe('only-key');
    expect(searchConfigFromEnv('write', { ...meili, MEILI_SEARCH_API_KEY: 'search-key' }).meiliApiKey).toBeUndefined();
  });

  it('needs MEILI_URL for Meilisearch, and defaults to Postgres and the addresses index', () => {
    expect(() => searchConfigFromEnv('search', { SEARCH_BACKEND: 'meilisearch' })).toThrow(/needs MEILI_URL/);
    expect(searchConfigFromEnv('search', { DATABASE_URL: 'postgres://x/db' })).toMatchObject({
      backend: 'postgres',
      meiliIndex: 'addresses',
      databaseUrl: 'postgres://x/db',
    });
  });
});
