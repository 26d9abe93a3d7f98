/**
 * Search latency as bench/ measures it (issue 9's goal: p95 ≤ 30 ms on the full 131,650-row
 * Maine / New Hampshire file). Kept here, beside the adapters, so the bench and a one-off check
 * ask the same queries: the kinds people type (a street, a typo in a short word, a missing
 * letter, a house number, a city, a filter by a state's name, a word that matches nothing).
 */
import type { SearchIndex, SearchQuery } from './search-index';

const query = (q: string, filters: Partial<SearchQuery> = {}): SearchQuery => ({
  q,
  sort: 'relevance',
  page: 1,
  perPage: 20,
  ...filters,
});

export const LATENCY_QUERIES: readonly SearchQuery[] = [
  query('main street'),
  query('mian street'),
  query('12 mian st'),
  query('sreet'),
  query('water stret'),
  query('hgih street'),
  query('4 pine st augusta'),
  query('chesnut street'),
  query('portland'),
  query('04101'),
  query('main', { region: 'Maine', country: 'US' }),
  query('elm', { city: 'Nashua' }),
  query('zzzz main'),
  query('zzzz yyyy', { region: 'Mainee' }),
  query(''),
];

export interface LatencySummary {
  searches: number;
  p50: number;
  p95: number;
  max: number;
}

/** Runs every query `rounds` times after one warm-up round; milliseconds per search. */
export async function measureSearchLatency(
  index: SearchIndex,
  queries: readonly SearchQuery[] = LATENCY_QUERIES,
  rounds = 5,
): Promise<LatencySummary> {
  for (const q of queries) await index.search(q);
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const q of queries) {
      const started = performance.now();
      await index.search(q);
      times.push(performance.now() - started);
    }
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] ?? 0;
  return { searches: times.length, p50: at(50), p95: at(95), max: times.at(-1) ?? 0 };
}
