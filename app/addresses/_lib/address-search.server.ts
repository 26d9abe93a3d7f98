import { searchAddresses } from '@/projections/read-side';
import type { SearchQuery } from '@/projections/search/search-index';
import type { AddressSearchResponse } from './search-response';

/**
 * One search as `GET /api/addresses` answers it. The search page renders the same body on the
 * server for its first paint and hands it to the browser's query cache, so the page and the API
 * cannot drift apart: a field added here reaches both.
 */
export async function addressSearch(query: SearchQuery): Promise<AddressSearchResponse> {
  const result = await searchAddresses(query);
  return {
    hits: result.hits,
    total: result.total,
    totalIsCapped: result.totalIsCapped,
    page: result.page,
    perPage: result.perPage,
    facets: result.facets,
    facetsSample: result.facetsSample,
    didYouMean: result.didYouMean,
    unmatchedFilters: result.unmatchedFilters,
    lag: result.lag,
  };
}
