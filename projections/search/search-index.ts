import type { AddressDoc } from '../address-view/projection';
import { tokenize, wordMatches } from './normalize';

/**
 * The search index port. Two adapters implement it (Postgres: postgres-search-index.ts, the
 * embedded default; Meilisearch: meilisearch-search-index.ts) and one contract suite
 * (contract.ts) holds both to the same behaviour.
 */

export const ADDRESS_STATUSES = ['active', 'archived'] as const;
export const SEARCH_SORTS = ['relevance', 'updated'] as const;
export const FACET_FIELDS = ['country', 'region', 'city', 'status'] as const;
export const HIGHLIGHT_FIELDS = ['line1', 'line2', 'city', 'region', 'postalCode', 'owner'] as const;

export type FacetField = (typeof FACET_FIELDS)[number];
export type HighlightField = (typeof HIGHLIGHT_FIELDS)[number];

export interface SearchQuery {
  /** Free text; empty lists everything that passes the filters. */
  q?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  /** Exact, ignoring case and accents. */
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

export interface SearchResult {
  hits: SearchHit[];
  total: number;
  page: number;
  perPage: number;
  facets: FacetCounts;
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
  /** A fresh, empty index beside this one; `swap` makes it the live one atomically. */
  prepareRebuild(): Promise<SearchIndexRebuild>;
  close(): Promise<void>;
}

export interface SearchIndexRebuild {
  index: SearchIndex;
  swap(): Promise<void>;
  discard(): Promise<void>;
}

export function emptyFacets(): FacetCounts {
  return { country: {}, region: {}, city: {}, status: {} };
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
      if (folded.some((w) => words.some((q) => wordMatches(w, q)))) {
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
