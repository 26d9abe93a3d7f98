'use client';

import type { HistoryMode } from '@/app/_lib/use-history-navigate';
import type { FacetCounts, FacetField } from '@/projections/search/search-index';
import { facetCount, facetSampleNote } from '../_lib/labels';
import { type SearchParamKey, type SearchParams, searchHref } from '../_lib/search-query';
import { SearchLink } from './search-link';

const FACET_LABELS: Record<FacetField, string> = {
  country: 'Country',
  region: 'Region / state',
  city: 'City / town',
  status: 'Status',
};

const FILTER_LABELS: Partial<Record<SearchParamKey, string>> = { ...FACET_LABELS, postalCode: 'Postal code' };
const FILTERS = ['country', 'region', 'city', 'postalCode', 'status'] as const;
const FACET_ORDER = ['status', 'country', 'region', 'city'] as const;

interface Props {
  params: SearchParams;
  facets: FacetCounts;
  /** `facetsSample` of the search: the counts are over that many of the matches (lower bounds). */
  sample: number | null;
  countryNames: Record<string, string>;
  navigate: (href: string, mode: HistoryMode) => void;
}

/** The active filters as removable chips, then the facet counts of the current results. */
export function SearchFacets({ params, facets, sample, countryNames, navigate }: Props) {
  const active = FILTERS.filter((k) => params[k]);
  const note = facetSampleNote(sample);
  return (
    <div className="facets">
      {active.length > 0 ? (
        <div className="facet-group">
          <h2>Filters</h2>
          <ul className="chips">
            {active.map((k) => (
              <li key={k}>
                <SearchLink className="chip" href={searchHref(params, { [k]: undefined })} navigate={navigate}>
                  {FILTER_LABELS[k]}: {params[k]} <span aria-hidden="true">×</span>
                  <span className="visually-hidden"> (remove)</span>
                </SearchLink>
              </li>
            ))}
          </ul>
          <SearchLink href={searchHref({ q: params.q, sort: params.sort })} navigate={navigate}>
            Clear all filters
          </SearchLink>
        </div>
      ) : null}
      {FACET_ORDER.map((field) => (
        <Facet
          key={field}
          field={field}
          counts={facets[field] ?? {}}
          sample={sample}
          params={params}
          countryNames={countryNames}
          navigate={navigate}
        />
      ))}
      {note ? <p className="muted">{note}</p> : null}
    </div>
  );
}

function Facet({
  field,
  counts,
  sample,
  params,
  countryNames,
  navigate,
}: Omit<Props, 'facets'> & { field: FacetField; counts: Record<string, number> }) {
  const entries = Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 12);
  if (entries.length === 0) return null;
  const active = params[field];
  return (
    <div className="facet-group">
      <h2>{FACET_LABELS[field]}</h2>
      <ul className="facet-list">
        {entries.map(([value, count]) => {
          const selected = active !== undefined && active.toLowerCase() === value.toLowerCase();
          const label =
            field === 'country'
              ? (countryNames[value] ?? value)
              : field === 'status'
                ? value.charAt(0).toUpperCase() + value.slice(1)
                : value;
          return (
            <li key={value}>
              <SearchLink
                href={searchHref(params, { [field]: selected ? undefined : value })}
                navigate={navigate}
                aria-current={selected ? 'true' : undefined}
                className={selected ? 'facet-selected' : undefined}
              >
                <span>{label}</span> <span className="count">{facetCount(count, sample)}</span>
              </SearchLink>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
