import type pg from 'pg';
import type { AddressDoc } from '../address-view/projection';
import { createPgPool, ident, withTransaction } from '../pg';
import { createTableCopy, dropTableCopy, swapTables } from '../table-swap';
import { regionForms } from './filter-forms';
import { documentWords, postalCodeKey, queryWords } from './normalize';
import {
  cappedTotal,
  type FacetCounts,
  type FilterField,
  facetCounts,
  MAX_FACET_VALUES,
  pageWindow,
  SEARCH_MAX_TOTAL_HITS,
  type SearchIndex,
  type SearchIndexRebuild,
  type SearchQuery,
  type SearchResult,
  toHit,
  type UnmatchedFilter,
} from './search-index';
import { didYouMean, fuzzyAllowed, oneEditAway, readWord, type WordInVocabulary } from './spelling';

export const POSTGRES_SEARCH_TABLE = 'address_search';
/** The vocabulary of a search table (migration 20261202010000_search_vocabulary). */
export const wordsTableOf = (table: string) => `${table}_words`;

/**
 * pg_trgm's word_similarity threshold for the `%>` operator, asked of the vocabulary: 0.5 lets
 * one typo in a word of seven or more letters through ("chesnut" → chestnut scores 0.55) while
 * unrelated words stay below.
 */
export const WORD_SIMILARITY_THRESHOLD = 0.5;
const UPSERT_CHUNK = 1_000;

export interface PostgresSearchIndexOptions {
  /** Its own connection, so a search database that is down or slow cannot stall anything else. */
  connectionString?: string;
  pool?: pg.Pool;
  table?: string;
  /** Its vocabulary table (default `<table>_words`). */
  wordsTable?: string;
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
 * or, for words of four letters or more that are not numbers, as a typo: a word of the index's
 * vocabulary (`<table>_words`) alike by trigrams ("chesnut" → chestnut), or, for a word that occurs
 * nowhere, one edit away ("mian" → main, "sreet" → street; spelling.ts), which trigrams miss in
 * short words. Those corrections also make `didYouMean`. When no document matches every word, any
 * one word may be missing (the Meilisearch adapter asks the same question as one federated
 * search). Ranking: per word, exact > prefix > typo and address lines > other fields >
 * alternates; ties go to the most recently updated, then the id. The contract suite
 * (contract.ts) holds the Meilisearch adapter to all of this.
 */
export function createPostgresSearchIndex(options: PostgresSearchIndexOptions): SearchIndex {
  if (!options.pool && !options.connectionString) throw new Error('postgres search index: pool or connectionString');
  const ownsPool = !options.pool;
  const pool = options.pool ?? createPgPool(options.connectionString!, { max: 5, applicationName: 'ledger-search' });
  const table = options.table ?? POSTGRES_SEARCH_TABLE;
  const t = ident(table);
  const wordsTable = options.wordsTable ?? wordsTableOf(table);
  const words$ = ident(wordsTable);
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
      // The version guard makes a replayed (older or equal) document a no-op. The vocabulary moves
      // in the same statement: every CTE sees the table as it was before it, so `old` holds the
      // replaced versions' words (counted down) and `up` the rows actually written (counted up).
      await pool.query(
        `WITH x AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, version int, status text, city text, region text,
                postal_code text, country text, updated_at timestamptz, doc jsonb, search_primary text,
                search_secondary text, search_alternates text)
         ),
         old AS (SELECT s.id, s.search_text FROM ${t} s WHERE s.id IN (SELECT id FROM x)),
         up AS (
           INSERT INTO ${t} AS s (id, version, status, city, region, postal_code, country, updated_at, doc,
                                search_primary, search_secondary, search_alternates)
           SELECT x.id, x.version, x.status, x.city, x.region, x.postal_code, x.country, x.updated_at, x.doc,
                  x.search_primary, x.search_secondary, x.search_alternates FROM x
           ON CONFLICT (id) DO UPDATE SET
             version = EXCLUDED.version, status = EXCLUDED.status, city = EXCLUDED.city, region = EXCLUDED.region,
             postal_code = EXCLUDED.postal_code, country = EXCLUDED.country, updated_at = EXCLUDED.updated_at,
             doc = EXCLUDED.doc, search_primary = EXCLUDED.search_primary, search_secondary = EXCLUDED.search_secondary,
             search_alternates = EXCLUDED.search_alternates
           WHERE s.version < EXCLUDED.version
           RETURNING s.id, s.search_text
         ),
         counted AS (
           SELECT DISTINCT up.id, w, 1 AS d FROM up, unnest(string_to_array(up.search_text, ' ')) AS w
           UNION ALL
           SELECT DISTINCT old.id, w, -1 FROM old JOIN up ON up.id = old.id, unnest(string_to_array(old.search_text, ' ')) AS w
         )
         INSERT INTO ${words$} AS v (word, documents)
         SELECT w, sum(d)::int FROM counted WHERE w <> '' GROUP BY w HAVING sum(d) <> 0
         ON CONFLICT (word) DO UPDATE SET documents = greatest(v.documents + EXCLUDED.documents, 0)`,
        [JSON.stringify(rows)],
      );
    }
  }

  /**
   * The vocabulary's answer for each query word that may be a typo: whether it occurs (as a word
   * or the start of one), and the words it may have meant (one edit away, or two from nine
   * letters; or alike by trigrams). One round trip for every word of the query.
   */
  async function lookUpWords(client: pg.PoolClient, words: readonly string[]) {
    const fuzzy = words.filter(fuzzyAllowed);
    const out = new Map<string, ReturnType<typeof readWord> & Omit<WordInVocabulary, 'found'>>();
    if (fuzzy.length === 0) return out;
    // One SELECT per word, each with its own constants: with a lateral reference instead, the
    // planner cannot use the trigram index and reads the whole vocabulary for every word.
    const { params, p } = sqlParams();
    const selects = fuzzy.map((w) => {
      const word = `${p(w)}::text`;
      return `SELECT ${word} AS w, k.documents, k.prefixed, (
           SELECT coalesce(json_agg(json_build_array(f.word, f.documents, f.similarity)), '[]'::json) FROM (
             SELECT v.word, v.documents, 0::float8 AS similarity FROM ${words$} v
              WHERE k.documents = 0 AND v.word = ANY(${p(oneEditAway(w))}::text[] COLLATE "C") AND v.documents > 0
             UNION ALL
             (SELECT v.word, v.documents, word_similarity(${word}, v.word)::float8 FROM ${words$} v
               WHERE v.word %> ${word} AND v.documents > 0 AND v.word <> (${word} COLLATE "C")
               ORDER BY 3 DESC, v.documents DESC LIMIT ${MAX_ALIKE})
           ) f) AS found
         FROM (
           SELECT coalesce(max(v.documents) FILTER (WHERE v.word = (${word} COLLATE "C")), 0) AS documents,
                  coalesce(max(v.documents) FILTER (WHERE v.word <> (${word} COLLATE "C")), 0) AS prefixed
             FROM ${words$} v
            WHERE v.documents > 0 AND v.word >= (${word} COLLATE "C") AND v.word < ((${word} || chr(1114111)) COLLATE "C")
         ) k`;
    });
    const { rows } = await client.query<{
      w: string;
      documents: number;
      prefixed: number;
      found: Array<[string, number, number]>;
    }>(selects.join(' UNION ALL '), params);
    for (const row of rows) {
      const found = row.found.map(([word, documents, similarity]) => ({ word, documents, similarity }));
      const vocabulary = { documents: row.documents, prefixed: row.prefixed, found };
      out.set(row.w, { ...vocabulary, ...readWord(row.w, vocabulary) });
    }
    return out;
  }

  async function search(query: SearchQuery): Promise<SearchResult> {
    const { params, p } = sqlParams();

    const filters = filterConditions(query);
    const words = queryWords(query.q);
    const window = pageWindow(query, maxTotalHits);

    type Row = { total: number; hits: AddressDoc[]; facets: Array<[keyof FacetCounts, string, number]> };
    // Transaction-local settings: the pool may be shared with code that wants the defaults.
    const settings = {
      'pg_trgm.word_similarity_threshold': WORD_SIMILARITY_THRESHOLD,
      statement_timeout: statementTimeout,
    };
    const { row, looked, unmatchedFilters } = await withTransaction(
      pool,
      async (client) => {
        const looked = await lookUpWords(client, words);

        // A tsquery literal of folded words (letters and digits only), cast once when planned:
        // to_tsquery() is only STABLE and would parse it again for every row scored.
        const tsq = (q: string) => `search_tsv @@ ${p(q)}::tsquery`;
        const alternativesOf = (w: string) => looked.get(w)?.alternatives ?? [];
        // Each word: a prefix of a document word (which covers the word itself), or one of the
        // vocabulary words it may have meant, in one tsquery: a GIN lookup, never a scan.
        const conditions = words.map((w) =>
          tsq([`'${w}':*`, ...alternativesOf(w).map((a) => `'${a.word}'`)].join(' | ')),
        );
        const scores = words.map((w) => {
          // The vocabulary already said whether the word occurs, whole or as a prefix: a branch
          // that cannot match is left out (each is a tsvector test on every matching row).
          const seen = looked.get(w);
          const whole = !seen || seen.documents > 0;
          const begins = !seen || seen.documents > 0 || seen.prefixed > 0;
          const typos = alternativesOf(w)
            .map((a) => `WHEN ${tsq(`'${a.word}'`)} THEN ${a.score.toFixed(4)}`)
            .join(' ');
          // Exact word > prefix > a typo; as written in the address lines (A) > city, postal code…
          // (B) > only through an alternate spelling (C); a typo scores by how near it is (spelling.ts).
          const exact = whole
            ? `WHEN ${tsq(`'${w}':A`)} THEN 1.0 WHEN ${tsq(`'${w}':B`)} THEN 0.9 WHEN ${tsq(`'${w}'`)} THEN 0.8`
            : '';
          const prefix = begins
            ? `WHEN ${tsq(`'${w}':*A`)} THEN 0.6 WHEN ${tsq(`'${w}':*B`)} THEN 0.55 WHEN ${tsq(`'${w}':*`)} THEN 0.5`
            : '';
          const branches = `${exact} ${prefix} ${typos}`.trim();
          return branches ? `CASE ${branches} ELSE 0 END` : '0';
        });
        const score = scores.length > 0 ? scores.join(' + ') : '0';
        const filterSql = filters.map((f) => f.sql(p));
        // The match is parenthesised: it can be an OR of branches, and AND binds tighter than OR, so
        // unwrapped it would let every branch after the first escape the filters.
        const where = (match: string | null) =>
          [...filterSql, ...(match ? [`(${match})`] : [])].join(' AND ') || 'TRUE';
        const order = query.sort === 'updated' ? 'm.updated_at DESC, m.id' : 'm.score DESC, m.updated_at DESC, m.id';
        const limit = p(window.limit);
        const offset = p(window.offset);

        const sql = (match: string | null) => `
        WITH matched AS MATERIALIZED (
          SELECT id, updated_at, country, region, city, status, (${score})::float8 AS score
            FROM ${t} WHERE ${where(match)}
        ),
        -- The page is cut before the documents are read: joining first would read (and
        -- detoast) the document of every match, tens of thousands for "street".
        page AS (
          SELECT s.doc, p.ord FROM (
            SELECT m.id, row_number() OVER (ORDER BY ${order}) AS ord
              FROM matched m ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}
          ) p JOIN ${t} s ON s.id = p.id
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

        let row = (await client.query<Row>(sql(conditions.length > 0 ? conditions.join(' AND ') : null), params))
          .rows[0]!;
        if (row.total === 0 && conditions.length >= 2) {
          // Nothing matches every word: accept documents that match all but one (a stray word such
          // as a unit, a misspelt short word, or a state written out). The OR keeps the indexes usable.
          // Written as an OR of ANDs (each leaving one word out) so that every branch is a
          // selective index scan; "count the matching words" would test every row of the table.
          const relaxed = conditions
            .map((_, skip) => `(${conditions.filter((__, i) => i !== skip).join(' AND ')})`)
            .join(' OR ');
          row = (await client.query<Row>(sql(relaxed), params)).rows[0]!;
        }
        const unmatchedFilters: UnmatchedFilter[] =
          row.total === 0 && filters.length > 0 ? await filtersMatchingNothing(client, filters) : [];
        return { row, looked, unmatchedFilters };
      },
      { readOnly: true, settings },
    );
    const corrections = new Map<string, string>();
    for (const [w, { correction }] of looked) if (correction) corrections.set(w, correction);
    return {
      hits: row.hits.map((doc) => toHit(doc, query.q)),
      ...cappedTotal(row.total, maxTotalHits),
      page: query.page,
      perPage: query.perPage,
      facets: facetCounts(row.facets),
      didYouMean: didYouMean(words, corrections),
      unmatchedFilters,
    };
  }

  /** Which of these filters no document of the index passes, each on its own. */
  async function filtersMatchingNothing(client: pg.PoolClient, filters: readonly Filter[]): Promise<UnmatchedFilter[]> {
    const { params, p } = sqlParams();
    const checks = filters.map((f, i) => `EXISTS (SELECT 1 FROM ${t} WHERE ${f.sql(p)}) AS f${i}`);
    const { rows } = await client.query<Record<string, boolean>>(`SELECT ${checks.join(', ')}`, params);
    return filters.filter((_, i) => !rows[0]![`f${i}`]).map(({ field, value }) => ({ field, value }));
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
      // The documents and their vocabulary are copied, filled and swapped together, so the
      // vocabulary always counts the documents beside it.
      const [next, nextWords] = await withTransaction(pool, async (client) => [
        await createTableCopy(client, table),
        await createTableCopy(client, wordsTable),
      ]);
      const both = async (step: (client: pg.PoolClient, live: string) => Promise<unknown>) =>
        withTransaction(pool, async (client) => {
          await step(client, table);
          await step(client, wordsTable);
        });
      return {
        index: createPostgresSearchIndex({
          pool,
          table: next,
          wordsTable: nextWords,
          statementTimeoutMs: statementTimeout,
          maxTotalHits,
        }),
        swap: () => both(swapTables),
        discard: () => both(dropTableCopy),
      };
    },

    async close() {
      if (ownsPool) await pool.end();
    },
  };
  return index;
}

/** Bind parameters of one statement: `p(value)` adds one and returns its placeholder. */
function sqlParams() {
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  return { params, p };
}

/** Trigram look-alikes of one query word asked of the vocabulary (the best by similarity). */
const MAX_ALIKE = 20;

interface Filter {
  field: FilterField;
  /** As the caller gave it (the answer names it so). */
  value: string;
  sql(p: (value: unknown) => string): string;
}

/** The query's filters as SQL conditions; a region also matches its ISO 3166-2 code or name (filter-forms.ts). */
function filterConditions(query: SearchQuery): Filter[] {
  const out: Filter[] = [];
  const add = (field: FilterField, value: string | undefined, sql: (p: (value: unknown) => string) => string) => {
    if (value) out.push({ field, value, sql });
  };
  add('country', query.country, (p) => `country = ${p(query.country!.toUpperCase())}`);
  add('region', query.region, (p) => {
    const forms = regionForms(query.region!, query.country).map((form) => `ledger_fold(${p(form)})`);
    return `ledger_fold(region) = ANY (ARRAY[${forms.join(', ')}])`;
  });
  add('city', query.city, (p) => `ledger_fold(city) = ledger_fold(${p(query.city)})`);
  add('status', query.status, (p) => `status = ${p(query.status)}`);
  add('postalCode', query.postalCode, (p) => {
    const prefix = postalCodeKey(query.postalCode!).replace(/[\\%_]/g, (c) => `\\${c}`);
    return `upper(replace(postal_code, ' ', '')) LIKE ${p(`${prefix}%`)}`;
  });
  return out;
}
