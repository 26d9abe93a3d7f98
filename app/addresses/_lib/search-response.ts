import type { SearchLag } from '@/projections/read-side';
import type { SearchResult, UnmatchedFilter } from '@/projections/search/search-index';
import type { RefusedFilter } from './search-query';

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

/**
 * One sentence per filter of the link that could not be read (`?country=Narnia`): the page
 * searched without it, and says so rather than show a wider answer as if it were the one asked for.
 */
export function refusedFilterTexts(refused: readonly RefusedFilter[]): string[] {
  return refused.map((f) => {
    const why = f.message.startsWith('must') ? `It ${f.message}` : f.message;
    return `The ${FILTER_NAMES[f.field]} “${f.value}” was left out of the search. ${why}.`;
  });
}
