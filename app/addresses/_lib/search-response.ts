import type { SearchLag } from '@/projections/read-side';
import type { SearchResult } from '@/projections/search/search-index';

/**
 * The body of `GET /api/addresses`, which the search page also renders on the server for its
 * first paint. `didYouMean` and `notices` are optional: the ranking work (issue 9) may add them,
 * and the page shows them when they are there and nothing when they are not.
 */
export interface AddressSearchResponse extends SearchResult {
  lag: SearchLag | null;
  /** A better query built from the index's vocabulary, when the best hits are weak. */
  didYouMean?: string | { q: string } | null;
  /** Sentences about the query, e.g. a filter value that matches nothing. */
  notices?: Array<string | { message: string; field?: string }> | null;
}

/** The suggested query, whichever of the two shapes the API sends. */
export function suggestion(response: Pick<AddressSearchResponse, 'didYouMean'>): string | undefined {
  const value = response.didYouMean;
  const q = typeof value === 'string' ? value : value?.q;
  return q?.trim() ? q.trim() : undefined;
}

/** The notices as sentences. */
export function noticeTexts(response: Pick<AddressSearchResponse, 'notices'>): string[] {
  return (response.notices ?? [])
    .map((n) => (typeof n === 'string' ? n : n?.message))
    .filter((text): text is string => typeof text === 'string' && text.trim() !== '');
}
