'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRef } from 'react';
import { useFreshHits } from '@/app/_lib/address-versions';
import { getJson } from '@/app/_lib/get-json';
import { queryKeys } from '@/app/_lib/query-keys';
import { resultCount } from '../_lib/labels';
import {
  FILTER_KEYS,
  SEARCH_MAX_PAGE,
  type SearchParamKey,
  searchApiUrl,
  searchHref,
  type TypedKey,
} from '../_lib/search-query';
import { type AddressSearchResponse, noticeTexts, refusedFilterTexts, suggestion } from '../_lib/search-response';
import { useSearchUrl } from '../_lib/use-search-url';
import { LagNotice } from './lag-notice';
import styles from './search.module.css';
import { SearchFacets } from './search-facets';
import { SEARCH_FORM_ID, SearchBox, useTypedDrafts } from './search-form';
import { SearchLink } from './search-link';
import { HitList, moveThroughHits, Pagination } from './search-results';

interface Props {
  canWrite: boolean;
  countryNames: Record<string, string>;
  /** The server could not search for the first paint (the browser will try again). */
  serverFailure: boolean;
}

const FAILURE =
  'Search is not available right now. Addresses can still be opened by their link, and changes are saved.';

/**
 * The search page below its heading. The server rendered the first result into the query cache
 * (HydrationBoundary in page.tsx), so this paints it at once; from then on every change of the
 * URL is a query of `GET /api/addresses`, with the previous results kept on screen while the next
 * arrive.
 */
export function AddressSearch({ canWrite, countryNames, serverFailure }: Props) {
  const { raw, params, refused, query, navigate } = useSearchUrl();
  const typed = useTypedDrafts(raw, navigate);
  const inputRef = useRef<HTMLInputElement>(null);
  const resultsRef = useRef<HTMLElement>(null);

  const search = useQuery({
    queryKey: queryKeys.addresses.search(query),
    queryFn: ({ signal }) => getJson<AddressSearchResponse>(searchApiUrl(query), signal),
    placeholderData: keepPreviousData,
    // A failed server render already said so; one retry in the browser, not three.
    retry: 1,
  });
  const result = search.data;
  const hits = useFreshHits(result?.hits ?? []);
  const busy = search.isFetching && (search.isPlaceholderData || !result);
  const failed = search.isError || (serverFailure && !result);
  const pages = result ? Math.min(Math.max(1, Math.ceil(result.total / result.perPage)), SEARCH_MAX_PAGE) : 1;
  const didYouMean = result ? suggestion(result, params.q) : undefined;

  const select = (key: SearchParamKey, value: string) =>
    navigate(searchHref(params, { [key]: value || undefined }), 'push');
  const clear = () => {
    typed.commit({ q: '' });
    inputRef.current?.focus();
  };

  return (
    <>
      <search>
        <form
          id={SEARCH_FORM_ID}
          method="get"
          action="/addresses"
          className="search-form"
          aria-label="Search addresses"
          onSubmit={(event) => {
            event.preventDefault();
            typed.commit();
          }}
        >
          <SearchBox
            value={typed.values.q}
            inputRef={inputRef}
            resultsRef={resultsRef}
            onType={(v) => typed.type('q', v)}
            onClear={clear}
            busy={busy}
          />
        </form>
      </search>

      {failed ? (
        <p className="notice notice-error" role="alert">
          {FAILURE}
        </p>
      ) : null}

      <LagNotice lag={result?.lag ?? null} lagAt={search.dataUpdatedAt} />

      <div className={`search-layout ${styles.layout}`}>
        {/* Closed on a phone, so the first result is on the first screen; always shown on a wide one (CSS). */}
        <details className={styles.filters}>
          <summary className={styles.filtersSummary}>
            Filters
            {activeFilterCount(params) > 0 ? <span className="muted"> ({activeFilterCount(params)} on)</span> : null}
          </summary>
          <div className={`search-filters ${styles.filterInputs}`}>
            {TEXT_FILTERS.map((f) => (
              <div key={f.name} className="filter field">
                <label htmlFor={f.id}>{f.label}</label>
                <input
                  id={f.id}
                  name={f.name}
                  form={SEARCH_FORM_ID}
                  value={typed.values[f.name]}
                  onChange={(e) => typed.type(f.name, e.target.value)}
                  maxLength={f.maxLength}
                  placeholder={f.placeholder}
                  autoComplete="off"
                />
              </div>
            ))}
            <div className="filter field">
              <label htmlFor="search-status">Status</label>
              <select
                id="search-status"
                name="status"
                form={SEARCH_FORM_ID}
                value={params.status ?? ''}
                onChange={(e) => select('status', e.target.value)}
              >
                <option value="">Any</option>
                <option value="active">Active</option>
                <option value="archived">Archived</option>
              </select>
            </div>
            <div className="filter field">
              <label htmlFor="search-sort">Sort by</label>
              <select
                id="search-sort"
                name="sort"
                form={SEARCH_FORM_ID}
                value={query.sort}
                onChange={(e) => select('sort', e.target.value)}
              >
                <option value="relevance">Best match</option>
                <option value="updated">Last updated</option>
              </select>
            </div>
            <noscript>
              <button type="submit" form={SEARCH_FORM_ID} className="button">
                Apply filters
              </button>
            </noscript>
          </div>
          {result ? (
            <SearchFacets
              params={params}
              facets={result.facets}
              sample={result.facetsSample ?? null}
              countryNames={countryNames}
              navigate={navigate}
            />
          ) : null}
        </details>

        <section
          ref={resultsRef}
          id="results"
          className={`results ${styles.results}`}
          aria-labelledby="results-heading"
          aria-busy={busy ? 'true' : 'false'}
          onKeyDown={(event) => {
            if (event.key === 'Escape') clear();
            else moveThroughHits(event, inputRef.current);
          }}
        >
          {result ? (
            <>
              <h2 id="results-heading" className="results-summary">
                {resultCount(result)}
                {result.total > result.perPage ? (
                  <span className="muted">
                    {' '}
                    · page {result.page} of {pages.toLocaleString('en')}
                  </span>
                ) : null}
              </h2>
              {didYouMean ? (
                <p className={styles.didYouMean}>
                  Did you mean{' '}
                  <SearchLink href={searchHref(params, { q: didYouMean })} navigate={navigate}>
                    {didYouMean}
                  </SearchLink>
                  ?
                </p>
              ) : null}
              {[...refusedFilterTexts(refused), ...noticeTexts(result)].map((text) => (
                <p key={text} className="notice notice-warn">
                  {text}
                </p>
              ))}
              {result.total === 0 ? (
                <p className="muted">
                  Try fewer words, check the filters, or{' '}
                  {canWrite ? (
                    <Link href="/addresses/new">register the address</Link>
                  ) : (
                    'ask an operator to register it'
                  )}
                  .
                </p>
              ) : (
                <div className={busy ? styles.stale : undefined}>
                  <HitList hits={hits} countryNames={countryNames} />
                </div>
              )}
              {pages > 1 ? <Pagination params={params} page={result.page} pages={pages} navigate={navigate} /> : null}
            </>
          ) : null}
        </section>
      </div>
      {/* Announced after each search; the heading above is not a live region, or it would speak twice. */}
      <p className="visually-hidden" aria-live="polite">
        {result && !busy ? resultCount(result) : ''}
      </p>
    </>
  );
}

/** The filters typed as text; their values follow the typing like the search box's. */
const TEXT_FILTERS: ReadonlyArray<{
  id: string;
  label: string;
  name: TypedKey;
  maxLength: number;
  placeholder?: string;
}> = [
  { id: 'search-country', label: 'Country', name: 'country', maxLength: 60, placeholder: 'US' },
  { id: 'search-region', label: 'Region / state', name: 'region', maxLength: 100 },
  { id: 'search-city', label: 'City / town', name: 'city', maxLength: 100 },
  { id: 'search-postal', label: 'Postal code starts with', name: 'postalCode', maxLength: 20 },
];

function activeFilterCount(params: Record<string, unknown>): number {
  return FILTER_KEYS.filter((k) => params[k] !== undefined).length;
}
