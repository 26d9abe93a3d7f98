import type { SearchLag } from '@/projections/read-side';
import type { SearchResult, UnmatchedFilter } from '@/projections/search/search-index';

/** The body of `GET /api/addresses`, which the search page also renders on the server for its first paint. */
export interface AddressSearchResponse extends SearchResult {
  lag: SearchLag | null;
}

/** The suggested query ("did you mean …"), when the index offers one that differs from what was typed. */
export function suggestion(response: Pick<AddressSearchResponse, 'didYouMean'>, typed?: string): string | undefined {
  const q = response.didYouMean?.trim();
  if (!q) return undefined;
  return typed !== undefined && q.toLowerCase() === typed.trim().toLowerCase() ? undefined : q;
}

const FILTER_NAMES: Record<UnmatchedFilter['field'], string> = {
  country: 'country',
  region: 'region',
  city: 'city',
  postalCode: 'postal code',
  status: 'status',
};

/**
 * One sentence per filter that no address passes, so an empty list says which filter emptied it
 * instead of a bare "0 results".
 */
export function noticeTexts(response: Pick<AddressSearchResponse, 'unmatchedFilters'>): string[] {
  return (response.unmatchedFilters ?? []).map(
    (f) => `No address has the ${FILTER_NAMES[f.field] ?? f.field} “${f.value}”.`,
  );
}
