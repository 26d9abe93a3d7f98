import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { z } from 'zod';
import { Main } from '@/app/_components/main';
import { pageActor } from '@/lib/auth/request-actor';
import { searchAddresses } from '@/projections/read-side';
import {
  ADDRESS_STATUSES,
  type FacetField,
  type Highlight,
  SEARCH_SORTS,
  type SearchHit,
  type SearchQuery,
} from '@/projections/search/search-index';
import { StatusBadge } from './_components/address-view';
import { canWrite, countryName } from './_lib/address.server';
import { formatTimestamp, resultCount } from './_lib/labels';

export const metadata: Metadata = { title: 'Addresses' };

const PER_PAGE = 20;
const MAX_PAGE = 500;

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((v) => v || undefined)
    .optional()
    .catch(undefined);

/** The URL's search parameters, cleaned: anything odd is dropped rather than turned into an error page. */
const querySchema = z.object({
  q: text(200),
  country: z
    .string()
    .trim()
    .regex(/^[A-Za-z]{2}$/)
    .transform((v) => v.toUpperCase())
    .optional()
    .catch(undefined),
  region: text(100),
  city: text(100),
  postalCode: text(20),
  status: z.enum(ADDRESS_STATUSES).optional().catch(undefined),
  sort: z.enum(SEARCH_SORTS).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(MAX_PAGE).optional().catch(undefined),
});

type Params = z.output<typeof querySchema>;
type ParamKey = keyof Params;

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A link to this page with some parameters changed (`undefined` removes one); the page resets unless set. */
function href(params: Params, changes: Partial<Record<ParamKey, string | number | undefined>>): string {
  const merged: Record<string, string | number | undefined> = { ...params, page: undefined, ...changes };
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) {
    if (value !== undefined && value !== '' && !(key === 'page' && value === 1)) qs.set(key, String(value));
  }
  const s = qs.toString();
  return s ? `/addresses?${s}` : '/addresses';
}

const FACET_LABELS: Record<FacetField, string> = {
  country: 'Country',
  region: 'Region / state',
  city: 'City / town',
  status: 'Status',
};

/**
 * Search and browse addresses. Reads the search projection, so results can trail the event store
 * by a few events; the page says so when they do. An address's own page is always exact.
 */
export default async function AddressesPage({ searchParams }: Props) {
  const actor = await pageActor('address:read', '/addresses');
  const raw = await searchParams;
  const params = querySchema.parse(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, first(v)])));
  const sort = params.sort ?? (params.q ? 'relevance' : 'updated');
  const query: SearchQuery = {
    q: params.q,
    country: params.country,
    region: params.region,
    city: params.city,
    postalCode: params.postalCode,
    status: params.status,
    sort,
    page: params.page ?? 1,
    perPage: PER_PAGE,
  };

  let result: Awaited<ReturnType<typeof searchAddresses>> | null = null;
  let failure: string | null = null;
  try {
    result = await searchAddresses(query);
  } catch {
    failure = 'Search is not available right now. Addresses can still be opened by their link, and changes are saved.';
  }
  const pages = result ? Math.max(1, Math.ceil(result.total / PER_PAGE)) : 1;
  const filters = (['country', 'region', 'city', 'postalCode', 'status'] as const).filter((k) => params[k]);

  return (
    <Main>
      <header className="page-header">
        <div>
          <h1>Addresses</h1>
          <p className="lead">
            Search by street, town, postal code or owner reference; typos and abbreviations are fine.
          </p>
        </div>
        {canWrite(actor) ? (
          <div className="header-links">
            <Link className="button primary" href="/addresses/new">
              Register an address
            </Link>
          </div>
        ) : null}
      </header>

      <search>
        <form method="get" action="/addresses" className="search-form" aria-label="Search addresses">
          <div className="search-main">
            <label htmlFor="search-q" className="visually-hidden">
              Search
            </label>
            <input
              id="search-q"
              name="q"
              type="search"
              defaultValue={params.q ?? ''}
              placeholder="e.g. 12 Main St, Portland or 04101"
              maxLength={200}
              autoComplete="off"
            />
            <button type="submit" className="button primary">
              Search
            </button>
          </div>
          <div className="search-filters">
            <div className="filter">
              <label htmlFor="search-country">Country</label>
              <input
                id="search-country"
                name="country"
                defaultValue={params.country ?? ''}
                maxLength={2}
                size={3}
                placeholder="US"
              />
            </div>
            <div className="filter">
              <label htmlFor="search-region">Region / state</label>
              <input id="search-region" name="region" defaultValue={params.region ?? ''} maxLength={100} size={8} />
            </div>
            <div className="filter">
              <label htmlFor="search-city">City / town</label>
              <input id="search-city" name="city" defaultValue={params.city ?? ''} maxLength={100} size={12} />
            </div>
            <div className="filter">
              <label htmlFor="search-postal">Postal code starts with</label>
              <input
                id="search-postal"
                name="postalCode"
                defaultValue={params.postalCode ?? ''}
                maxLength={20}
                size={8}
              />
            </div>
            <div className="filter">
              <label htmlFor="search-status">Status</label>
              <select id="search-status" name="status" defaultValue={params.status ?? ''}>
                <option value="">Any</option>
                <option value="active">Active</option>
                <option value="archived">Archived</option>
              </select>
            </div>
            <div className="filter">
              <label htmlFor="search-sort">Sort by</label>
              <select id="search-sort" name="sort" defaultValue={sort}>
                <option value="relevance">Best match</option>
                <option value="updated">Last updated</option>
              </select>
            </div>
          </div>
        </form>
      </search>

      {failure ? (
        <p className="notice notice-error" role="alert">
          {failure}
        </p>
      ) : null}

      {result?.lag && (result.lag.events > 0 || result.lag.failing) ? (
        <p className="notice notice-warn lag-notice" role="status">
          {result.lag.events > 0 ? (
            <>
              Results may be {result.lag.events.toLocaleString('en')} {result.lag.events === 1 ? 'event' : 'events'}{' '}
              behind{result.lag.seconds >= 1 ? ` (about ${formatSeconds(result.lag.seconds)})` : ''}: the search index
              is still catching up.
            </>
          ) : null}
          {result.lag.failing
            ? ' The search index is failing to update right now; recent changes may be missing.'
            : null}{' '}
          An address’s own page is always up to date.
        </p>
      ) : null}

      {result ? (
        <div className="search-layout">
          <aside className="facets" aria-label="Refine">
            {filters.length > 0 ? (
              <div className="facet-group">
                <h2>Filters</h2>
                <ul className="chips">
                  {filters.map((k) => (
                    <li key={k}>
                      <Link className="chip" href={href(params, { [k]: undefined })}>
                        {k === 'postalCode' ? 'Postal code' : FACET_LABELS[k as FacetField]}: {params[k]}{' '}
                        <span aria-hidden="true">×</span>
                        <span className="visually-hidden"> (remove)</span>
                      </Link>
                    </li>
                  ))}
                </ul>
                <Link href={href({ q: params.q, sort: params.sort }, {})}>Clear all filters</Link>
              </div>
            ) : null}
            {(['status', 'country', 'region', 'city'] as const).map((field) => (
              <Facet key={field} field={field} counts={result.facets[field]} params={params} />
            ))}
          </aside>

          <section className="results" aria-labelledby="results-heading">
            <h2 id="results-heading" className="results-summary">
              {resultCount(result)}
              {result.total > PER_PAGE ? (
                <span className="muted">
                  {' '}
                  · page {query.page} of {pages.toLocaleString('en')}
                </span>
              ) : null}
            </h2>
            {result.total === 0 ? (
              <p className="muted">
                Try fewer words, check the filters, or{' '}
                {canWrite(actor) ? (
                  <Link href="/addresses/new">register the address</Link>
                ) : (
                  'ask an operator to register it'
                )}
                .
              </p>
            ) : (
              <ol className="hits">
                {result.hits.map((hit) => (
                  <HitItem key={hit.id} hit={hit} />
                ))}
              </ol>
            )}
            {pages > 1 ? <Pagination params={params} page={query.page} pages={Math.min(pages, MAX_PAGE)} /> : null}
          </section>
        </div>
      ) : null}
    </Main>
  );
}

function Facet({ field, counts, params }: { field: FacetField; counts: Record<string, number>; params: Params }) {
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
          const label = field === 'country' ? `${countryName(value)}` : field === 'status' ? capitalize(value) : value;
          return (
            <li key={value}>
              <Link
                href={href(params, { [field]: selected ? undefined : value })}
                aria-current={selected ? 'true' : undefined}
                className={selected ? 'facet-selected' : undefined}
              >
                <span>{label}</span> <span className="count">{count.toLocaleString('en')}</span>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function HitItem({ hit }: { hit: SearchHit }) {
  return (
    <li className="hit">
      <div className="hit-main">
        <Link href={`/addresses/${hit.id}`} className="hit-title">
          <Marked value={hit.line1} ranges={hit.highlights.line1} />
        </Link>
        {hit.line2 ? (
          <span className="hit-line2">
            <Marked value={hit.line2} ranges={hit.highlights.line2} />
          </span>
        ) : null}
        <span className="hit-place">
          <Marked value={hit.city} ranges={hit.highlights.city} />
          {hit.region ? (
            <>
              , <Marked value={hit.region} ranges={hit.highlights.region} />
            </>
          ) : null}{' '}
          <Marked value={hit.postalCode} ranges={hit.highlights.postalCode} /> · {countryName(hit.country)}
        </span>
        {hit.owner ? (
          <span className="hit-owner">
            Owner: <Marked value={hit.owner} ranges={hit.highlights.owner} />
          </span>
        ) : null}
      </div>
      <div className="hit-side">
        <StatusBadge status={hit.status} />
        <span className="muted">
          v{hit.version} · updated {formatTimestamp(hit.updatedAt)}
        </span>
      </div>
    </li>
  );
}

/** A value with its matched parts in <mark>. */
function Marked({ value, ranges }: { value: string; ranges?: Highlight[] }) {
  if (!ranges || ranges.length === 0) return <>{value}</>;
  const parts: ReactNode[] = [];
  let at = 0;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    if (r.start < at) continue;
    if (r.start > at) parts.push(value.slice(at, r.start));
    parts.push(<mark key={r.start}>{value.slice(r.start, r.start + r.length)}</mark>);
    at = r.start + r.length;
  }
  if (at < value.length) parts.push(value.slice(at));
  return <>{parts}</>;
}

function Pagination({ params, page, pages }: { params: Params; page: number; pages: number }) {
  const numbers = new Set([1, page - 2, page - 1, page, page + 1, page + 2, pages].filter((n) => n >= 1 && n <= pages));
  const sorted = [...numbers].sort((a, b) => a - b);
  return (
    <nav className="pagination" aria-label="Pages">
      {page > 1 ? (
        <Link href={href(params, { page: page - 1 })} rel="prev">
          ‹ Previous
        </Link>
      ) : (
        <span className="disabled">‹ Previous</span>
      )}
      {sorted.map((n, i) => (
        <span key={n}>
          {i > 0 && n - sorted[i - 1]! > 1 ? <span className="gap">…</span> : null}
          {n === page ? (
            <span className="current" aria-current="page">
              {n}
            </span>
          ) : (
            <Link href={href(params, { page: n })}>{n}</Link>
          )}
        </span>
      ))}
      {page < pages ? (
        <Link href={href(params, { page: page + 1 })} rel="next">
          Next ›
        </Link>
      ) : (
        <span className="disabled">Next ›</span>
      )}
    </nav>
  );
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
