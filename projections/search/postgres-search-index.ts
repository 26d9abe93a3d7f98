import type pg from 'pg';
import type { AddressDoc } from '../address-view/projection';
import { createPgPool, ident, withTransaction } from '../pg';
import { createTableCopy, dropTableCopy, settleTable, swapTables } from '../table-swap';
import { regionForms } from './filter-forms';
import { documentWords, postalCodeKey, queryWords } from './normalize';
import {
  cappedTotal,
  type FacetCounts,
  type FilterField,
  facetCounts,
  MAX_FACET_VALUES,
  pageWindow,
  SEARCH_CANDIDATES,
  SEARCH_MAX_TOTAL_HITS,
  type SearchIndex,
  type SearchIndexRebuild,
  type SearchQuery,
  type SearchResult,
  toHit,
  type UnmatchedFilter,
} from './search-index';
import { type Alternative, didYouMean, fuzzyAllowed, oneEditAway, readWord, type WordInVocabulary } from './spelling';

export const POSTGRES_SEARCH_TABLE = 'address_search';
/** The vocabulary of a search table (migration 20261202010000_search_vocabulary). */
export const wordsTableOf = (table: string) => `${table}_words`;

/**
 * pg_trgm's word_similarity threshold for the `%>` operator, asked of the vocabulary: 0.5 lets
 * one typo in a word of seven or more letters through ("chesnut" → chestnut scores 0.55) while
 * unrelated words stay below.
 */
export const WORD_SIMILARITY_THRESHOLD = 0.5;
/** Documents per upsert statement: above the projector's largest batch (worker.ts DEFAULTS), so a batch is one statement. */
const UPSERT_CHUNK = 10_000;

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
  /** Matches read, ranked and facet-counted per search at most (SEARCH_CANDIDATES; never below maxTotalHits + 1). */
  candidateLimit?: number;
}

/** The distinct words of a stored `search_text`, as the vocabulary counts them (no empty word). */
export function vocabularyWords(searchText: string): string[] {
  return [...new Set(searchText.split(' '))].filter((w) => w !== '');
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
  // One more than the cap at least, so a total up to the cap is exact and every page up to it can be cut.
  const candidateLimit = Math.max(options.candidateLimit ?? SEARCH_CANDIDATES, maxTotalHits + 1);
  const settings = {
    'pg_trgm.word_similarity_threshold': WORD_SIMILARITY_THRESHOLD,
    statement_timeout: statementTimeout,
    // A LIMIT over a word many documents hold tempts the planner into a sequential scan that
    // "soon" finds enough rows; the rows of one town lie together in the table (imports are by
    // file), so it can read most of the table first (140 ms for "Nashua" on 131,650 addresses).
    enable_seqscan: 'off',
    // Search plans are short; JIT compiling one costs more than it saves (tens of milliseconds).
    jit: 'off',
  };

  async function upsert(docs: readonly AddressDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += UPSERT_CHUNK) {
      const chunk = docs.slice(i, i + UPSERT_CHUNK);
      const wordsOf = new Map<string, readonly string[]>();
      const rows = chunk.map((doc) => {
        const columns = searchColumns(doc);
        // What search_text (migration 20261126010100) will hold, as the vocabulary counts it.
        wordsOf.set(doc.id, vocabularyWords(`${columns.primary} ${columns.secondary} ${columns.alternates}`));
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
      await withTransaction(pool, async (client) => {
        // The version guard makes a replayed (older or equal) document a no-op; RETURNING names the
        // rows actually written, with the words of the version each replaced (`old`: every CTE
        // sees the table as it was before the statement). A first version (1) replaces nothing,
        // so its row is not looked for: most of an import's documents.
        const { rows: written } = await client.query<{ id: string; old: string | null }>(
          `WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, version int, status text, city text, region text,
                  postal_code text, country text, updated_at timestamptz, doc jsonb, search_primary text,
                  search_secondary text, search_alternates text)
           ),
           old AS (SELECT s.id, s.search_text FROM ${t} s WHERE s.id IN (SELECT id FROM x WHERE version > 1)),
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
             RETURNING s.id
           )
           SELECT up.id, old.search_text AS old FROM up LEFT JOIN old ON old.id = up.id`,
          [JSON.stringify(rows)],
        );
        // The vocabulary moves in the same transaction, by what was written: each written
        // document's words up one, the replaced version's down one. Counted here rather than by
        // unnesting every row's text in SQL (a third of the upsert's time on an import); sorted,
        // so two writers of the same words lock them in the same order.
        const delta = new Map<string, number>();
        const count = (words: readonly string[], by: number) => {
          for (const w of words) delta.set(w, (delta.get(w) ?? 0) + by);
        };
        for (const row of written) {
          count(wordsOf.get(row.id) ?? [], 1);
          if (row.old !== null) count(vocabularyWords(row.old), -1);
        }
        const changed = [...delta].filter(([, d]) => d !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        if (changed.length === 0) return;
        await client.query(
          `INSERT INTO ${words$} AS v (word, documents)
           SELECT * FROM unnest($1::text[], $2::int[])
           ON CONFLICT (word) DO UPDATE SET documents = greatest(v.documents + EXCLUDED.documents, 0)`,
          [changed.map(([w]) => w), changed.map(([, d]) => d)],
        );
      });
    }
  }

  /**
   * The vocabulary's answer for every query word: how many documents hold it whole and as the
   * start of a word (`breadth`, which picks the word the index is asked first); and for a word
   * that may be a typo, the words it may have meant (one edit away, or two from nine letters; or
   * alike by trigrams). One round trip for every word of the query.
   */
  async function lookUpWords(client: pg.PoolClient, words: readonly string[]) {
    const looked = new Map<string, ReturnType<typeof readWord> & Omit<WordInVocabulary, 'found'>>();
    const breadth = new Map<string, number>();
    if (words.length === 0) return { looked, breadth };
    // One SELECT per word, each with its own constants: with a lateral reference instead, the
    // planner cannot use the trigram index and reads the whole vocabulary for every word.
    const { params, p } = sqlParams();
    const selects = [...new Set(words)].map((w) => {
      const word = `${p(w)}::text`;
      const alike = fuzzyAllowed(w)
        ? `(SELECT coalesce(json_agg(json_build_array(f.word, f.documents, f.similarity)), '[]'::json) FROM (
             SELECT v.word, v.documents, word_similarity(${word}, v.word)::float8 AS similarity FROM ${words$} v
              WHERE v.word %> ${word} AND v.documents > 0 AND v.word <> (${word} COLLATE "C")
              ORDER BY 3 DESC, v.documents DESC LIMIT ${MAX_ALIKE}
           ) f)`
        : 'NULL::json';
      return `SELECT ${word} AS w, k.documents, k.prefixed, k.breadth, ${alike} AS found
         FROM (
           SELECT coalesce(max(v.documents) FILTER (WHERE v.word = (${word} COLLATE "C")), 0) AS documents,
                  coalesce(max(v.documents) FILTER (WHERE v.word <> (${word} COLLATE "C")), 0) AS prefixed,
                  coalesce(sum(v.documents), 0)::int AS breadth
             FROM ${words$} v
            WHERE v.documents > 0 AND v.word >= (${word} COLLATE "C") AND v.word < ((${word} || chr(1114111)) COLLATE "C")
         ) k`;
    });
    const { rows } = await client.query<{
      w: string;
      documents: number;
      prefixed: number;
      breadth: number;
      found: Array<[string, number, number]> | null;
    }>(selects.join(' UNION ALL '), params);
    // The words one edit away, asked only for the fuzzy words that occur nowhere whole, in one
    // statement of one array: planning the hundreds of strings of every word's edits in the
    // first statement cost ~10 ms on every search, most of whose words are spelt right.
    const unknown = rows.filter((row) => row.found && row.documents === 0).map((row) => row.w);
    const edits = new Map(unknown.map((w) => [w, new Set(oneEditAway(w))]));
    const near = unknown.length
      ? (
          await client.query<{ word: string; documents: number }>(
            // A join with the unnested array, not `= ANY(array)`: the planner estimates an ANY
            // element by element, which for a thousand strings costs more than the lookup.
            `SELECT v.word, v.documents FROM unnest($1::text[]) AS e(word)
               JOIN ${words$} v ON v.word = (e.word COLLATE "C") WHERE v.documents > 0`,
            [[...new Set([...edits.values()].flatMap((set) => [...set]))]],
          )
        ).rows
      : [];
    for (const row of rows) {
      breadth.set(row.w, row.breadth);
      if (!row.found) continue;
      const oneEdit = edits.get(row.w);
      const found = [
        ...near.filter((v) => oneEdit?.has(v.word)).map((v) => ({ ...v, similarity: 0 })),
        ...row.found.map(([word, documents, similarity]) => ({ word, documents, similarity })),
      ];
      const vocabulary = { documents: row.documents, prefixed: row.prefixed, found };
      looked.set(row.w, { ...vocabulary, ...readWord(row.w, vocabulary) });
    }
    return { looked, breadth };
  }

  async function search(query: SearchQuery): Promise<SearchResult> {
    const filters = filterConditions(query);
    const words = queryWords(query.q);
    const window = pageWindow(query, maxTotalHits);

    type Row = {
      matched: number;
      hits: AddressDoc[];
      facets: Array<[keyof FacetCounts, string, number]>;
    };
    const { row, looked, unmatchedFilters } = await withTransaction(
      pool,
      async (client) => {
        const { looked, breadth } = await lookUpWords(client, words);
        const alternativesOf = (w: string) => looked.get(w)?.alternatives ?? [];
        const terms = words.map((w) => wordTerms(w, looked.get(w), alternativesOf(w), breadth.get(w) ?? 0));

        /** The statement: every word matched, or (`relaxed`) all but any one of them. */
        const statement = (relaxed: boolean) => {
          const { params, p } = sqlParams();
          // A tsquery literal of folded words (letters and digits only), cast once when planned:
          // to_tsquery() is only STABLE and would parse it again for every row scored.
          const tsq = (q: string) => `search_tsv @@ ${p(q)}::tsquery`;
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
          const columns = 'id, updated_at, country, region, city, status';
          const byRelevance = query.sort !== 'updated' && words.length > 0;
          const order = byRelevance ? 'm.score DESC, m.updated_at DESC, m.id' : 'm.updated_at DESC, m.id';
          const n = p(candidateLimit);

          /**
           * One tier of candidates: documents passing the filters and `level` (one condition per
           * word) but not the tier before. Only the narrowest words (fewest documents, by the
           * vocabulary) are asked of the GIN index; the others are tested on the rows it found,
           * behind OFFSET 0 so the planner keeps them out of the index scan. A prefix such as "b" or
           * "me" makes GIN collect every document of every word it starts (tens of milliseconds),
           * where a test on a few rows' tsvectors costs nothing.
           */
          const tier = (level: readonly Term[], before: readonly Term[] | null) => {
            // The narrowest word, and the next one if it too is narrow: GIN intersects the two
            // cheaply, and "16 … 04005" leaves a handful of rows to test instead of 1,865.
            const byBreadth = level.map((term, i) => ({ term, i })).sort((a, b) => a.term.breadth - b.term.breadth);
            const asked = byBreadth.filter((x, rank) => rank === 0 || (rank === 1 && x.term.breadth <= NARROW_WORD));
            const both = (queries: string[]) => queries.map((q) => `(${q})`).join(' & ');
            const indexed = asked.every((x) => x.term.lines)
              ? `to_tsvector('simple'::regconfig, search_primary) @@ ${p(both(asked.map((x) => x.term.lines!)))}::tsquery`
              : tsq(both(asked.map((x) => x.term.query)));
            const inner = [...filterSql, indexed].join(' AND ');
            const rest = [
              ...level.filter((_, i) => !asked.some((x) => x.i === i)).map((t) => tsq(t.query)),
              ...(before ? [`NOT (${before.map((t) => tsq(t.query)).join(' AND ')})`] : []),
            ];
            return `(SELECT ${columns}, (${score})::float8 AS score
                     FROM (SELECT ${columns}, search_tsv FROM ${t} WHERE ${inner} OFFSET 0) c
                    ${rest.length > 0 ? `WHERE ${rest.join(' AND ')}` : ''} LIMIT ${n})`;
          };
          /**
           * The candidates, at most `candidateLimit`: every match when there are fewer, else the
           * strongest first. By relevance, in tiers: every word whole (or, misspelt, corrected) in
           * the address lines, then whole anywhere, then any match; each tier's documents are a
           * subset of the next's. By last update (or with no words): the newest, which the
           * updated_at index reads in order.
           */
          const candidates = (match: string | null, tiered: boolean) => {
            if (!byRelevance || !tiered) {
              const where = [...filterSql, ...(match ? [`(${match})`] : [])].join(' AND ') || 'TRUE';
              const newest = byRelevance ? '' : 'ORDER BY updated_at DESC, id';
              return `SELECT ${columns}, (${score})::float8 AS score FROM ${t} WHERE ${where} ${newest} LIMIT ${n}`;
            }
            const strongA = terms.map((x) => x.bestA);
            const strong = terms.map((x) => x.best);
            const any = terms.map((x) => x.any);
            return `SELECT * FROM (${tier(strongA, null)} UNION ALL ${tier(strong, strongA)} UNION ALL ${tier(any, strong)}) u LIMIT ${n}`;
          };

          const sql = (match: string | null, tiered: boolean) => `
        WITH matched AS MATERIALIZED (${candidates(match, tiered)}),
        -- The page is cut before the documents are read: joining first would read (and
        -- detoast) the document of every candidate.
        page AS (
          -- No row_number() window: it would sort every candidate, where ORDER BY … LIMIT keeps
          -- only the page's rows (a top-N heap); the page's few rows are sorted again below.
          SELECT s.doc, m.score, m.updated_at, m.id FROM (
            SELECT m.id, m.score, m.updated_at
              FROM matched m ORDER BY ${order} LIMIT ${p(window.limit)} OFFSET ${p(window.offset)}
          ) m JOIN ${t} s ON s.id = m.id
        ),
        -- One pass over the candidates groups them by all four fields; the (few) groups are then
        -- summed per field, instead of hashing every candidate once per field.
        groups AS (SELECT country, region, city, status, count(*)::int AS n FROM matched GROUP BY 1, 2, 3, 4),
        facet_counts AS (
          SELECT f.facet, f.value, sum(g.n)::int AS n
            FROM groups g CROSS JOIN LATERAL (VALUES ('country', g.country), ('region', g.region),
                                                     ('city', g.city), ('status', g.status)) AS f(facet, value)
           WHERE f.value IS NOT NULL GROUP BY 1, 2
        )
        SELECT (SELECT count(*)::int FROM matched) AS matched,
               (SELECT coalesce(json_agg(doc ORDER BY ${order}), '[]'::json) FROM page m) AS hits,
               (SELECT coalesce(json_agg(json_build_array(facet, value, n)), '[]'::json) FROM (
                  SELECT facet, value, n, row_number() OVER (PARTITION BY facet ORDER BY n DESC, value COLLATE "C") AS r
                    FROM facet_counts) f WHERE r <= ${MAX_FACET_VALUES}) AS facets`;

          // Only the SQL's own placeholders may be sent: PostgreSQL refuses a parameter it cannot type.
          if (!relaxed && byRelevance) return { text: sql(null, true), params };
          const conditions = terms.map((x) => tsq(x.any.query));
          if (!relaxed) return { text: sql(conditions.length > 0 ? conditions.join(' AND ') : null, false), params };
          // Nothing matches every word: accept documents that match all but one (a stray word such
          // as a unit, a misspelt short word, or a state written out). The OR keeps the indexes usable.
          // Written as an OR of ANDs (each leaving one word out) so that every branch is a
          // selective index scan; "count the matching words" would test every row of the table.
          const match = conditions
            .map((_, skip) => `(${conditions.filter((__, i) => i !== skip).join(' AND ')})`)
            .join(' OR ');
          return { text: sql(match, false), params };
        };

        const run = async (relaxed: boolean) => {
          const { text, params } = statement(relaxed);
          return (await client.query<Row>(text, params)).rows[0]!;
        };
        let row = await run(false);
        if (row.matched === 0 && words.length >= 2) row = await run(true);
        const unmatchedFilters: UnmatchedFilter[] =
          row.matched === 0 && filters.length > 0 ? await filtersMatchingNothing(client, filters) : [];
        return { row, looked, unmatchedFilters };
      },
      { readOnly: true, settings },
    );
    const corrections = new Map<string, string>();
    for (const [w, { correction }] of looked) if (correction) corrections.set(w, correction);
    // Fewer candidates than the limit are every match; as many are the strongest of more.
    const complete = row.matched < candidateLimit;
    return {
      hits: row.hits.map((doc) => toHit(doc, query.q)),
      ...cappedTotal(complete ? row.matched : Number.POSITIVE_INFINITY, maxTotalHits),
      page: query.page,
      perPage: query.perPage,
      facets: facetCounts(row.facets),
      facetsSample: complete ? null : row.matched,
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

    async settle() {
      // The documents and their vocabulary (migration 20261204030000_read_model_settle says what
      // they cost unsettled).
      await settleTable(pool, table);
      await settleTable(pool, wordsTable);
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
      const copy = createPostgresSearchIndex({
        pool,
        table: next,
        wordsTable: nextWords,
        statementTimeoutMs: statementTimeout,
        maxTotalHits,
        candidateLimit,
      });
      return {
        index: copy,
        // A copy filled in bulk goes live settled, or the first searches after a rebuild are slow.
        swap: async () => {
          await copy.settle();
          await both(swapTables);
        },
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

/**
 * Documents a word may have (by the vocabulary) and still be asked of the GIN index beside the
 * narrowest word: collecting a prefix's documents costs about a microsecond each.
 */
const NARROW_WORD = 10_000;

/** Trigram look-alikes of one query word asked of the vocabulary (the best by similarity). */
const MAX_ALIKE = 20;

/** One word's condition as a tsquery literal, and about how many documents pass it (the vocabulary's counts). */
interface Term {
  query: string;
  breadth: number;
  /**
   * The same condition without the weight, asked of the address lines' own GIN index
   * (address_search_primary_tsv_idx): GIN keeps no weights, so `search_tsv` answers "in the
   * address lines" only by rechecking every document that holds the word anywhere.
   */
  lines?: string;
}

/**
 * A query word's conditions, from weakest to strongest: `any` is what a match needs (the word as
 * the start of a document word, or a word it may have meant); `best` is the word whole (with its
 * corrections), or, when it occurs nowhere whole, `any`; `bestA` the same in the address lines.
 * Each is a subset of the one before, which the candidate tiers rely on.
 */
function wordTerms(
  w: string,
  seen: { documents: number } | undefined,
  alternatives: readonly Alternative[],
  breadth: number,
): { any: Term; best: Term; bestA: Term } {
  const alike = alternatives.reduce((sum, a) => sum + a.documents, 0);
  // tsquery literals: 'w' (whole), 'w':* (prefix), 'w':A / 'w':*A (in the address lines).
  const either = (prefix: boolean, weight: '' | 'A') =>
    [
      `'${w}'${prefix || weight ? ':' : ''}${prefix ? '*' : ''}${weight}`,
      ...alternatives.map((a) => `'${a.word}'${weight ? `:${weight}` : ''}`),
    ].join(' | ');
  const any = { query: either(true, ''), breadth: breadth + alike };
  if (seen && seen.documents === 0) {
    return { any, best: any, bestA: { query: either(true, 'A'), breadth: any.breadth, lines: any.query } };
  }
  // Unseen words (numbers, short words) were not counted whole: their prefix count bounds it.
  const best = { query: either(false, ''), breadth: (seen?.documents ?? breadth) + alike };
  return { any, best, bestA: { query: either(false, 'A'), breadth: best.breadth, lines: best.query } };
}

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
    return `region_folded = ANY (ARRAY[${forms.join(', ')}])`;
  });
  // The stored folded columns (migration 20261203020000): ledger_fold on a column would run for
  // every row the index did not already narrow, and it cannot be inlined.
  add('city', query.city, (p) => `city_folded = ledger_fold(${p(query.city)})`);
  add('status', query.status, (p) => `status = ${p(query.status)}`);
  add('postalCode', query.postalCode, (p) => {
    const prefix = postalCodeKey(query.postalCode!).replace(/[\\%_]/g, (c) => `\\${c}`);
    return `upper(replace(postal_code, ' ', '')) LIKE ${p(`${prefix}%`)}`;
  });
  return out;
}
