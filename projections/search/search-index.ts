import type { AddressDoc } from '../address-view/projection';
import { tokenize, wordMatches } from './normalize';
import { editDistance, maxEdits } from './spelling';

/**
 * The search index port. Two adapters implement it (Postgres: postgres-search-index.ts, the
 * embedded default; Meilisearch: meilisearch-search-index.ts) and one contract suite
 * (contract.ts) holds both to the same behaviour.
 */

export const ADDRESS_STATUSES = ['active', 'archived'] as const;
export const SEARCH_SORTS = ['relevance', 'updated'] as const;
export const FACET_FIELDS = ['country', 'region', 'city', 'status'] as const;
export const HIGHLIGHT_FIELDS = ['line1', 'line2', 'city', 'region', 'postalCode', 'owner'] as const;

export const FILTER_FIELDS = ['country', 'region', 'city', 'postalCode', 'status'] as const;

export type FacetField = (typeof FACET_FIELDS)[number];
export type FilterField = (typeof FILTER_FIELDS)[number];
export type HighlightField = (typeof HIGHLIGHT_FIELDS)[number];

export interface SearchQuery {
  /** Free text; empty lists everything that passes the filters. */
  q?: string;
  /** ISO 3166-1 alpha-2 (filter-forms.ts `countryCode` reads names and alpha-3 codes). */
  country?: string;
  /**
   * Exact, ignoring case and accents; an ISO 3166-2 subdivision also matches by its code or its
   * name ("Maine" finds "ME" and "ME" finds "Maine"; filter-forms.ts `regionForms`).
   */
  region?: string;
  /** Exact, ignoring case and accents. */
  city?: string;
  /** Prefix, ignoring case and spaces ("042" finds 04210). */
  postalCode?: string;
  status?: (typeof ADDRESS_STATUSES)[number];
  sort: (typeof SEARCH_SORTS)[number];
  /** 1-based. */
  page: number;
  perPage: number;
}

/** A matched part of a field value, in UTF-16 code units of the value as stored. */
export interface Highlight {
  start: number;
  length: number;
}

export type PublicAddress = Omit<AddressDoc, 'streamId' | 'lastPosition'>;

export type SearchHit = PublicAddress & { highlights: Partial<Record<HighlightField, Highlight[]>> };

export type FacetCounts = Record<FacetField, Record<string, number>>;

/** A filter no address of the index passes (whatever the query and the other filters). */
export interface UnmatchedFilter {
  field: FilterField;
  value: string;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Matches counted, at most the index's `maxTotalHits` (SEARCH_MAX_TOTAL_HITS by default). */
  total: number;
  /** More than `total` addresses match: the count stopped at the cap (pages end there too). */
  totalIsCapped: boolean;
  page: number;
  perPage: number;
  facets: FacetCounts;
  /**
   * Null when `facets` count every match. A number when more addresses matched than the index
   * reads per search (Postgres: SEARCH_CANDIDATES): the counts are then over that many of them,
   * the strongest matches first, so each is a lower bound and a rare value may be missing.
   */
  facetsSample: number | null;
  /**
   * The query with each word that occurs in no address replaced by the index's word it most
   * likely meant ("mian street" → "main street"), folded as the index matches it; null when every
   * word occurs (as a word or the start of one) or nothing near one does.
   */
  didYouMean: string | null;
  /**
   * When nothing matched: the filters no address has at all, so the caller learns which filter
   * emptied the answer ("region=Mainee") instead of a bare 0. Empty otherwise.
   */
  unmatchedFilters: UnmatchedFilter[];
}

export interface SearchIndexHealth {
  ok: boolean;
  backend: SearchBackend;
  detail?: string;
}

export type SearchBackend = 'postgres' | 'meilisearch';

export interface SearchIndex {
  readonly backend: SearchBackend;
  /** Creates what the index needs (settings, synonyms); safe to call on every start. */
  setup(): Promise<void>;
  /** The stored documents for these ids (missing ids are absent from the map). */
  getDocuments(ids: readonly string[]): Promise<Map<string, AddressDoc>>;
  /**
   * Writes documents; resolves only once they are durable and searchable, so the projector may
   * advance its checkpoint afterwards. A document older than (or as old as) the stored one must not
   * replace it. `checkpoint` tags the write with the position it covers, where the backend can.
   */
  upsert(docs: readonly AddressDoc[], options?: { checkpoint?: string }): Promise<void>;
  search(query: SearchQuery): Promise<SearchResult>;
  /** id → version of every document, for rebuild verification. */
  versions(): Promise<Map<string, number>>;
  health(): Promise<SearchIndexHealth>;
  /**
   * After many writes (an import, a rebuild, a backlog): makes them as cheap to search as the rest,
   * where the backend needs a nudge for that. The projector calls it once caught up
   * (projections/runner.ts); a failure costs speed until the backend's own upkeep, never answers.
   */
  settle(): Promise<void>;
  /** A fresh, empty index beside this one; `swap` makes it the live one atomically. */
  prepareRebuild(): Promise<SearchIndexRebuild>;
  close(): Promise<void>;
}

export interface SearchIndexRebuild {
  index: SearchIndex;
  swap(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * How many matches a search counts exactly and pages through: past it the total reads "more than
 * 1,000" (`totalIsCapped`) and pages end, as on GitHub, Algolia (`paginationLimitedTo`) and
 * Meilisearch (its default `maxTotalHits`). Nobody pages through 50 pages of addresses; they type
 * one more word. Counting all 100,000 matches of "street" made every broad search cost hundreds
 * of milliseconds on 131,650 addresses.
 */
export const SEARCH_MAX_TOTAL_HITS = 1_000;

/**
 * How many matches the Postgres search reads, ranks and counts facets over at most: a little
 * more than the cap, so a total up to the cap is exact and every page up to it can be cut, with
 * some room for the ranking. Fewer matches than this are all read, and the answer is exact. Each
 * candidate costs: 2,000 made a city's name (South Portland) 40 ms at p95 on a loaded machine.
 */
export const SEARCH_CANDIDATES = 1_200;

/** Facet values returned per field: the most frequent ones (Meilisearch's maxValuesPerFacet). */
export const MAX_FACET_VALUES = 100;

/** The total to report for `matched` matches under the cap. */
export function cappedTotal(matched: number, maxTotalHits: number): Pick<SearchResult, 'total' | 'totalIsCapped'> {
  return { total: Math.min(matched, maxTotalHits), totalIsCapped: matched > maxTotalHits };
}

/** The rows of a page that lie within the cap (a page past it is empty, on every backend). */
export function pageWindow(query: SearchQuery, maxTotalHits: number): { offset: number; limit: number } {
  const offset = (query.page - 1) * query.perPage;
  return { offset, limit: Math.max(0, Math.min(query.perPage, maxTotalHits - offset)) };
}

export function emptyFacets(): FacetCounts {
  return { country: {}, region: {}, city: {}, status: {} };
}

/**
 * Facet counts in one order for every backend: most frequent first, then by value (code-unit
 * order), at most MAX_FACET_VALUES per field. Neither Postgres' json_agg nor Meilisearch promise
 * an order, and the page lists the values as they come.
 */
export function facetCounts(entries: Iterable<readonly [field: string, value: string, count: number]>): FacetCounts {
  const byField = new Map<FacetField, Array<[string, number]>>();
  for (const [field, value, count] of entries) {
    if (!(FACET_FIELDS as readonly string[]).includes(field)) continue;
    const list = byField.get(field as FacetField) ?? [];
    list.push([value, count]);
    byField.set(field as FacetField, list);
  }
  const facets = emptyFacets();
  for (const [field, list] of byField) {
    list.sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : va > vb ? 1 : 0));
    facets[field] = Object.fromEntries(list.slice(0, MAX_FACET_VALUES));
  }
  return facets;
}

export function publicAddress(doc: AddressDoc): PublicAddress {
  const { streamId: _s, lastPosition: _p, ...rest } = doc;
  return rest;
}

/**
 * The matched words of each field, computed the same way for every backend (Meilisearch reports
 * positions differently across versions, and Postgres not at all), from the same folding rules
 * the index matches with.
 */
export function highlight(doc: AddressDoc, q: string | undefined): SearchHit['highlights'] {
  const words = tokenize(q);
  const out: SearchHit['highlights'] = {};
  if (words.length === 0) return out;
  for (const field of HIGHLIGHT_FIELDS) {
    const value = doc[field];
    if (!value) continue;
    const ranges: Highlight[] = [];
    for (const match of value.matchAll(/[\p{L}\p{N}]+/gu)) {
      const folded = tokenize(match[0]);
      // A typo one or two edits away ("mian" in Main) is marked like the search matched it.
      if (folded.some((w) => words.some((q) => wordMatches(w, q) || editDistance(w, q) <= maxEdits(q)))) {
        ranges.push({ start: match.index, length: match[0].length });
      }
    }
    if (ranges.length > 0) out[field] = ranges;
  }
  return out;
}

export function toHit(doc: AddressDoc, q: string | undefined): SearchHit {
  return { ...publicAddress(doc), highlights: highlight(doc, q) };
}
