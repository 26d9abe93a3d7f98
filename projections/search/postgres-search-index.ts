import type pg from 'pg';
import type { AddressDoc } from '../address-view/projection';
import { createPgPool, ident, withTransaction } from '../pg';
import { createTableCopy, dropTableCopy, swapTables } from '../table-swap';
import { documentWords, FUZZY_MIN_LENGTH, postalCodeKey, queryWords } from './normalize';
import {
  cappedTotal,
  type FacetCounts,
  facetCounts,
  MAX_FACET_VALUES,
  pageWindow,
  SEARCH_MAX_TOTAL_HITS,
  type SearchIndex,
  type SearchIndexRebuild,
  type SearchQuery,
  type SearchResult,
  toHit,
} from './search-index';

export const POSTGRES_SEARCH_TABLE = 'address_search';

/**
 * pg_trgm's word_similarity threshold for the `<%` operator: 0.5 lets one typo in a word of seven
 * or more letters through ("chesnut" → chestnut scores 0.55) while unrelated words stay below.
 */
export const WORD_SIMILARITY_THRESHOLD = 0.5;
const UPSERT_CHUNK = 1_000;

export interface PostgresSearchIndexOptions {
  /** Its own connection, so a search database that is down or slow cannot stall anything else. */
  connectionString?: string;
  pool?: pg.Pool;
  table?: string;
  statementTimeoutMs?: number;
  /** Matches counted and paged through (search-index.ts SEARCH_MAX_TOTAL_HITS). */
  maxTotalHits?: number;
}

/** The search columns of a document: the words of normalize.ts `documentWords`, space-separated. */
export function searchColumns(doc: AddressDoc) {
  const words = documentWords(doc);
  return {
    primary: words.primary.join(' '),
    secondary: words.secondary.join(' '),
    alternates: words.alternates.join(' '),
  };
}

/**
 * Search on Postgres: each query word must match the document as a prefix of a word (tsvector,
 * "12 Main Str" as you type), via a street-type alternate stored with the document ("St"/"Street"),
 * or, for words of four letters or more that are not numbers, as a typo (pg_trgm word similarity,
 * "chesnut"). When no document matches every word, any one word may be missing (the Meilisearch
 * adapter asks the same question as one federated search). Ranking: per word, exact > prefix >
 * typo and address lines > other fields > alternates; ties go to the most recently updated, then
 * the id. The contract suite (contract.ts) holds the Meilisearch adapter to all of this.
 */
export function createPostgresSearchIndex(options: PostgresSearchIndexOptions): SearchIndex {
  if (!options.pool && !options.connectionString) throw new Error('postgres search index: pool or connectionString');
  const ownsPool = !options.pool;
  const pool = options.pool ?? createPgPool(options.connectionString!, { max: 5, applicationName: 'ledger-search' });
  const table = options.table ?? POSTGRES_SEARCH_TABLE;
  const t = ident(table);
  const statementTimeout = options.statementTimeoutMs ?? 5_000;
  const maxTotalHits = options.maxTotalHits ?? SEARCH_MAX_TOTAL_HITS;

  async function upsert(docs: readonly AddressDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += UPSERT_CHUNK) {
      const rows = docs.slice(i, i + UPSERT_CHUNK).map((doc) => {
        const columns = searchColumns(doc);
        return {
          id: doc.id,
          version: doc.version,
          status: doc.status,
          city: doc.city,
          region: doc.region,
          postal_code: doc.postalCode,
          country: doc.country,
          updated_at: doc.updatedAt,
          doc,
          search_primary: columns.primary,
          search_secondary: columns.secondary,
          search_alternates: columns.alternates,
        };
      });
      // The version guard makes a replayed (older or equal) document a no-op.
      await pool.query(
        `INSERT INTO ${t} AS s (id, version, status, city, region, postal_code, country, updated_at, doc,
                              search_primary, search_secondary, search_alternates)
         SELECT x.id, x.version, x.status, x.city, x.region, x.postal_code, x.country, x.updated_at, x.doc,
                x.search_primary, x.search_secondary, x.search_alternates
           FROM jsonb_to_recordset($1::jsonb) AS x(id text, version int, status text, city text, region text,
                postal_code text, country text, updated_at timestamptz, doc jsonb, search_primary text,
                search_secondary text, search_alternates text)
         ON CONFLICT (id) DO UPDATE SET
           version = EXCLUDED.version, status = EXCLUDED.status, city = EXCLUDED.city, region = EXCLUDED.region,
           postal_code = EXCLUDED.postal_code, country = EXCLUDED.country, updated_at = EXCLUDED.updated_at,
           doc = EXCLUDED.doc, search_primary = EXCLUDED.search_primary, search_secondary = EXCLUDED.search_secondary,
           search_alternates = EXCLUDED.search_alternates
         WHERE s.version < EXCLUDED.version`,
        [JSON.stringify(rows)],
      );
    }
  }

  async function search(query: SearchQuery): Promise<SearchResult> {
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };

    const filters: string[] = [];
    if (query.country) filters.push(`country = ${p(query.country.toUpperCase())}`);
    if (query.region) filters.push(`ledger_fold(region) = ledger_fold(${p(query.region)})`);
    if (query.city) filters.push(`ledger_fold(city) = ledger_fold(${p(query.city)})`);
    if (query.status) filters.push(`status = ${p(query.status)}`);
    if (query.postalCode) {
      const prefix = postalCodeKey(query.postalCode).replace(/[\\%_]/g, (c) => `\\${c}`);
      filters.push(`upper(replace(postal_code, ' ', '')) LIKE ${p(`${prefix}%`)}`);
    }

    const words = queryWords(query.q);
    const conditions = words.map((w) => {
      const prefix = `search_tsv @@ to_tsquery('simple', ${p(`'${w}':*`)})`;
      return fuzzyAllowed(w) ? `(${prefix} OR ${p(w)} <% search_text)` : prefix;
    });
    const scores = words.map((w) => {
      const tsq = (q: string) => `search_tsv @@ to_tsquery('simple', ${p(q)})`;
      const fuzzy = fuzzyAllowed(w) ? `0.4 * word_similarity(${p(w)}, search_text)` : '0';
      // Exact word > prefix; as written in the address lines (A) > city, postal code… (B) > only
      // through an alternate spelling (C); a typo scores by its similarity.
      return `CASE WHEN ${tsq(`'${w}':A`)} THEN 1.0 WHEN ${tsq(`'${w}':B`)} THEN 0.9 WHEN ${tsq(`'${w}'`)} THEN 0.8
        WHEN ${tsq(`'${w}':*A`)} THEN 0.6 WHEN ${tsq(`'${w}':*B`)} THEN 0.55 WHEN ${tsq(`'${w}':*`)} THEN 0.5
        ELSE ${fuzzy} END`;
    });
    const score = scores.length > 0 ? scores.join(' + ') : '0';
    // The match is parenthesised: it can be an OR of branches, and AND binds tighter than OR, so
    // unwrapped it would let every branch after the first escape the filters.
    const where = (match: string | null) => [...filters, ...(match ? [`(${match})`] : [])].join(' AND ') || 'TRUE';
    const order = query.sort === 'updated' ? 'm.updated_at DESC, m.id' : 'm.score DESC, m.updated_at DESC, m.id';
    const window = pageWindow(query, maxTotalHits);
    const limit = p(window.limit);
    const offset = p(window.offset);

    const sql = (match: string | null) => `
      WITH matched AS MATERIALIZED (
        SELECT id, updated_at, country, region, city, status, (${score})::float8 AS score
          FROM ${t} WHERE ${where(match)}
      ),
      page AS (
        SELECT s.doc, row_number() OVER (ORDER BY ${order}) AS ord
          FROM matched m JOIN ${t} s ON s.id = m.id
         ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}
      ),
      facet_counts AS (
        SELECT CASE WHEN GROUPING(country) = 0 THEN 'country' WHEN GROUPING(region) = 0 THEN 'region'
                    WHEN GROUPING(city) = 0 THEN 'city' ELSE 'status' END AS facet,
               coalesce(country, region, city, status) AS value, count(*)::int AS n
          FROM matched GROUP BY GROUPING SETS ((country), (region), (city), (status))
      )
      SELECT (SELECT count(*)::int FROM matched) AS total,
             (SELECT coalesce(json_agg(doc ORDER BY ord), '[]'::json) FROM page) AS hits,
             (SELECT coalesce(json_agg(json_build_array(facet, value, n)), '[]'::json) FROM (
                SELECT facet, value, n, row_number() OVER (PARTITION BY facet ORDER BY n DESC, value COLLATE "C") AS r
                  FROM facet_counts WHERE value IS NOT NULL) f WHERE r <= ${MAX_FACET_VALUES}) AS facets`;

    type Row = { total: number; hits: AddressDoc[]; facets: Array<[keyof FacetCounts, string, number]> };
    // Transaction-local settings: the pool may be shared with code that wants the defaults.
    const settings = {
      'pg_trgm.word_similarity_threshold': WORD_SIMILARITY_THRESHOLD,
      statement_timeout: statementTimeout,
    };
    const row = await withTransaction(
      pool,
      async (client) => {
        const all = (await client.query<Row>(sql(conditions.length > 0 ? conditions.join(' AND ') : null), params))
          .rows[0]!;
        if (all.total > 0 || conditions.length < 2) return all;
        // Nothing matches every word: accept documents that match all but one (a stray word such
        // as a unit, a misspelt short word, or a state written out). The OR keeps the indexes usable.
        // Written as an OR of ANDs (each leaving one word out) so that every branch is a
        // selective index scan; "count the matching words" would test every row of the table.
        const relaxed = conditions
          .map((_, skip) => `(${conditions.filter((__, i) => i !== skip).join(' AND ')})`)
          .join(' OR ');
        return (await client.query<Row>(sql(relaxed), params)).rows[0]!;
      },
      { readOnly: true, settings },
    );
    return {
      hits: row.hits.map((doc) => toHit(doc, query.q)),
      ...cappedTotal(row.total, maxTotalHits),
      page: query.page,
      perPage: query.perPage,
      facets: facetCounts(row.facets),
    };
  }

  const index: SearchIndex = {
    backend: 'postgres',

    async setup() {
      // The table comes from the migrations; only check that it is there.
      await pool.query(`SELECT 1 FROM ${t} LIMIT 1`);
    },

    async getDocuments(ids) {
      const out = new Map<string, AddressDoc>();
      if (ids.length === 0) return out;
      const { rows } = await pool.query<{ doc: AddressDoc }>(`SELECT doc FROM ${t} WHERE id = ANY($1::text[])`, [
        [...ids],
      ]);
      for (const { doc } of rows) out.set(doc.id, doc);
      return out;
    },

    upsert: (docs) => upsert(docs),
    search,

    async versions() {
      const { rows } = await pool.query<{ id: string; version: number }>(`SELECT id, version FROM ${t}`);
      return new Map(rows.map((r) => [r.id, r.version]));
    },

    async health() {
      try {
        await pool.query(`SELECT 1 FROM ${t} LIMIT 1`);
        return { ok: true, backend: 'postgres' };
      } catch (error) {
        return { ok: false, backend: 'postgres', detail: String((error as Error).message ?? error) };
      }
    },

    async prepareRebuild(): Promise<SearchIndexRebuild> {
      const next = await withTransaction(pool, (client) => createTableCopy(client, table));
      return {
        index: createPostgresSearchIndex({ pool, table: next, statementTimeoutMs: statementTimeout, maxTotalHits }),
        swap: () => withTransaction(pool, (client) => swapTables(client, table)),
        discard: () => withTransaction(pool, (client) => dropTableCopy(client, table)),
      };
    },

    async close() {
      if (ownsPool) await pool.end();
    },
  };
  return index;
}

function fuzzyAllowed(word: string): boolean {
  return word.length >= FUZZY_MIN_LENGTH && !/^\d+$/.test(word);
}
