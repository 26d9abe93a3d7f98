/**
 * `npm run bench`, search part: the Postgres search index (`SearchIndex.search`, what /api/search
 * and the search page call) on the imported Maine / New Hampshire file, with the addresses the
 * other groups registered beside it, against a plain `ILIKE` on the same table (address_search,
 * its `search_text`) with the same filters, ORDER BY updated_at, LIMIT 20.
 *
 * Queries come from 200 (--quick: 20; --search-queries N) of the file's imported addresses, five kinds of each, as a person types:
 *   typo      house number and the street's first word with two letters swapped ("12 Mian")
 *   prefix    house number and the street's first three letters ("12 Mai")
 *   whole     the whole address ("12 Main Street, Portland, ME 04101")
 *   filtered  the street's first word, in the address's city and country
 *   faceted   the city's name alone (many matches: the facet counts dominate)
 * p50 and p95 latency per kind, per run; a figure is the median over the runs. The ILIKE
 * baseline finds no typos: it measures the cost of a plain scan, not the same answers.
 */
import type pg from 'pg';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import type { SearchQuery } from '@/projections/search/search-index';
import type { BenchContext } from './context';
import { IMPORT_ACTOR } from './import';
import { type FigureInput, percentile, progress, repeat } from './measure';
import { startCaughtUpProjector } from './projection';
import type { Scenario } from './writes';

export interface Row {
  line1: string;
  city: string;
  region: string | null;
  postal_code: string;
  country: string;
}

export const KINDS = ['typo', 'prefix', 'whole', 'filtered', 'faceted'] as const;
export type Kind = (typeof KINDS)[number];

function swapLetters(word: string): string {
  if (word.length < 4) return word;
  const i = Math.floor(word.length / 2) - 1;
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

export function queryOf(kind: Kind, row: Row): Omit<SearchQuery, 'sort' | 'page' | 'perPage'> {
  const [house = '', street = ''] = row.line1.split(' ');
  switch (kind) {
    case 'typo':
      return { q: `${house} ${swapLetters(street)}` };
    case 'prefix':
      return { q: `${house} ${street.slice(0, 3)}` };
    case 'whole':
      return { q: `${row.line1}, ${row.city}, ${row.region ?? ''} ${row.postal_code}` };
    case 'filtered':
      return { q: street, city: row.city, country: row.country };
    case 'faceted':
      return { q: row.city };
    default: {
      const never: never = kind;
      throw new Error(`unknown query kind ${never}`);
    }
  }
}

function ilike(pool: pg.Pool, query: ReturnType<typeof queryOf>) {
  const where = ['search_text ILIKE $1'];
  const params: string[] = [`%${query.q ?? ''}%`];
  if (query.city) where.push(`city = $${params.push(query.city)}`);
  if (query.country) where.push(`country = $${params.push(query.country)}`);
  return pool.query(
    `SELECT doc FROM address_search WHERE ${where.join(' AND ')} ORDER BY updated_at DESC LIMIT 20`,
    params,
  );
}

async function latencies(label: string, queries: readonly unknown[], run: (q: never) => Promise<unknown>) {
  const bar = progress(label, queries.length);
  const out: number[] = [];
  for (const [i, q] of queries.entries()) {
    const t = performance.now();
    await run(q as never);
    out.push(performance.now() - t);
    bar.update(i + 1);
  }
  bar.stop();
  return out;
}

const searchScenario: Scenario = {
  name: 'search',
  async run(ctx: BenchContext) {
    // The read models must hold every address (they do after the projection group; not with --only).
    const projector = await startCaughtUpProjector(ctx);
    await projector.stop();
    const { rows } = await ctx.ownerPool.query<Row>(
      `SELECT line1, city, region, postal_code, country FROM address_view
        WHERE last_actor_id = $1 ORDER BY md5(address_id) LIMIT $2`,
      [IMPORT_ACTOR.id, ctx.searchQueries ?? (ctx.quick ? 20 : 200)],
    );
    if (rows.length === 0) throw new Error('search: no imported addresses (run the import group first)');
    const total = (await ctx.ownerPool.query<{ n: number }>('SELECT count(*)::int AS n FROM address_search')).rows[0]!
      .n;
    ctx.notes.push(
      `search: ${total.toLocaleString('en-US')} documents in address_search; queries from ${rows.length} imported addresses`,
    );
    const index = createPostgresSearchIndex({ connectionString: ctx.server.url });
    const figures: FigureInput[] = [];
    try {
      const all = { ours: [] as number[][], ilike: [] as number[][] };
      for (const kind of KINDS) {
        const queries = rows.map((r) => queryOf(kind, r));
        for (const q of queries.slice(0, 10)) await index.search({ ...q, sort: 'relevance', page: 1, perPage: 20 });
        const runs = await repeat(`search ${kind}`, {
          ours: async () => {
            const l = await latencies(`search ${kind}`, queries, (q: ReturnType<typeof queryOf>) =>
              index.search({ ...q, sort: 'relevance', page: 1, perPage: 20 }),
            );
            all.ours.push(l);
            return percentile(l, 95);
          },
          ilike: async () => {
            const l = await latencies(`search ${kind}: ILIKE`, queries, (q: ReturnType<typeof queryOf>) =>
              ilike(ctx.ownerPool, q),
            );
            all.ilike.push(l);
            return percentile(l, 95);
          },
        });
        const p50 = (lists: number[][]) => lists.slice(-3).map((l) => percentile(l, 50));
        figures.push(
          {
            name: `search ${kind}, p50`,
            unit: 'ms',
            better: 'lower',
            ours: p50(all.ours),
            baselines: { 'ILIKE on address_search': p50(all.ilike) },
          },
          {
            name: `search ${kind}, p95`,
            unit: 'ms',
            better: 'lower',
            ours: runs.ours,
            baselines: { 'ILIKE on address_search': runs.ilike },
          },
        );
      }
      // Every kind together: the p95 the goal (≤ 30 ms) is about.
      const byRun = (lists: number[][], p: number) =>
        [0, 1, 2].map((run) => percentile(lists.filter((_, i) => i % 3 === run).flat(), p));
      for (const p of [50, 95]) {
        figures.push({
          name: `search, all kinds, p${p}`,
          unit: 'ms',
          better: 'lower',
          ours: byRun(all.ours, p),
          baselines: { 'ILIKE on address_search': byRun(all.ilike, p) },
          ...(p === 95 ? { note: 'goal: ≤ 30 ms' } : {}),
        });
      }
      return figures;
    } finally {
      await index.close();
    }
  },
};

export const searchScenarios: Scenario[] = [searchScenario];
