/**
 * What the Meilisearch adapter sends, as pure functions (unit-tested without a server in
 * meilisearch-mapping.unit.spec.ts): the index settings, the stored document, the search
 * requests, which settings need sending, and which server versions are good enough.
 *
 * The rule behind all of it: Meilisearch is asked the same question the Postgres adapter answers
 * (postgres-search-index.ts). Both match normalize.ts's folded words, never the raw text, so
 * Meilisearch's own tokenizer, synonyms and typo defaults cannot make the two disagree.
 */
import type { FederatedMultiSearchParams, Filter, SearchParams, Settings } from 'meilisearch';
import type { AddressDoc } from '../address-view/projection';
import { regionForms } from './filter-forms';
import { documentWords, FUZZY_MIN_LENGTH, foldText, postalCodeKey, trigramSimilarity, wordPrefixes } from './normalize';
import {
  FACET_FIELDS,
  type FilterField,
  MAX_FACET_VALUES,
  pageWindow,
  type SearchQuery,
  type UnmatchedFilter,
} from './search-index';
import { didYouMean, type FoundWord, fuzzyAllowed, readWord } from './spelling';

/**
 * The oldest server these settings and requests work on, and why:
 * - `typoTolerance.disableOnNumbers` (1.15): no typos in house numbers and postal codes;
 * - `customMetadata` on document tasks (1.26): each write is tagged with its checkpoint;
 * - `federation.page`/`hitsPerPage` (meilisearch#6101, released by 1.34.3): the one-word-missing
 *   fallback counts its matches exactly, like every other search;
 * - `localizedAttributes` (1.10), federated search (1.10) and `facetsByIndex` (1.11) come earlier.
 */
export const MIN_MEILISEARCH_VERSION = '1.34.3';

type Version = readonly [major: number, minor: number, patch: number];

/** "1.34.3", "v1.34.3" or "1.35.0-rc.1" → [1, 34, 3]; anything else null. */
export function parseVersion(text: string): Version | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Why a server of this `pkgVersion` (GET /version) cannot be used, or null when it can. */
export function versionProblem(pkgVersion: string): string | null {
  const version = parseVersion(pkgVersion);
  const min = parseVersion(MIN_MEILISEARCH_VERSION)!;
  if (!version) return `Meilisearch reports version "${pkgVersion}", which is not a version number`;
  if (compareVersions(version, min) < 0) {
    return (
      `Meilisearch ${pkgVersion} is too old: the address search needs ${MIN_MEILISEARCH_VERSION} or newer ` +
      '(typoTolerance.disableOnNumbers, task customMetadata, federated page/hitsPerPage; see projections/README.md)'
    );
  }
  return null;
}

/** Tokenizer locale of every searchable attribute and every query: the folded words are segmented alike. */
export const MEILI_LOCALES = ['eng'];

/** Attributes holding the prefixes of each tier's words (see `prefixSearch` below). */
export const MEILI_PREFIX_ATTRIBUTES = ['prefixesPrimary', 'prefixesSecondary', 'prefixesAlternates'] as const;

/**
 * The searchable attributes, best first, in the order of the Postgres score (postgres-search-index.ts):
 * an exact word in the address lines, the other fields, the alternates (A 1.0 > B 0.9 > C 0.8), then
 * a prefix of one in the same order (0.6 > 0.55 > 0.5).
 */
export const MEILI_SEARCHABLE = [
  'searchPrimary',
  'searchSecondary',
  'searchAlternates',
  ...MEILI_PREFIX_ATTRIBUTES,
] as const;

/** The index settings. `maxTotalHits` is the cap reported to users; Meilisearch counts one further to tell "exactly" from "more". */
export function meiliSettings(maxTotalHits: number): Settings {
  return {
    searchableAttributes: [...MEILI_SEARCHABLE],
    filterableAttributes: ['id', 'country', 'region', 'city', 'status', 'cityKey', 'regionKey', 'postalPrefixes'],
    sortableAttributes: ['updatedAtTs', 'id'],
    // The Postgres order: `sort` first (without a sort parameter it does nothing; with one it
    // orders every match, as sort=updated does); every word must match anyway (`words`); a typo
    // scores below any exact or prefix match (`typo`); then the attribute a word matched in, which
    // encodes exact > prefix and address lines > other fields > alternates (`attribute`); then the
    // tie break Postgres uses (updated_at DESC, id). No `proximity` or `exactness`: Postgres ranks
    // by neither, and they would reorder what it orders by the last update.
    rankingRules: ['sort', 'words', 'typo', 'attribute', 'updatedAtTs:desc', 'id:asc'],
    typoTolerance: {
      enabled: true,
      // One typo from four letters (pg_trgm on a four-letter word with its last letter wrong).
      minWordSizeForTypos: { oneTypo: FUZZY_MIN_LENGTH, twoTypos: 9 },
      // 04102 must not find 04101 (Postgres never matches numbers fuzzily).
      disableOnNumbers: true,
      // A prefix is matched exactly or not at all, as Postgres' `'w':*`.
      disableOnAttributes: [...MEILI_PREFIX_ATTRIBUTES],
      disableOnWords: [],
    },
    // Street-type alternates are stored with the document (searchAlternates), as Postgres does;
    // synonyms would also expand the query ("saint" → "st" → "street"), which Postgres does not.
    synonyms: {},
    stopWords: [],
    // Folded words are Latin script without accents: pinning a locale keeps Meilisearch from
    // guessing German and splitting compounds on one side only ("hauptstrasse" vs "haupt strasse").
    localizedAttributes: [{ attributePatterns: [...MEILI_SEARCHABLE], locales: MEILI_LOCALES }],
    // The most frequent values, like Postgres; by name would cut the list alphabetically.
    faceting: { maxValuesPerFacet: MAX_FACET_VALUES, sortFacetValuesBy: { '*': 'count' } },
    pagination: { maxTotalHits: maxTotalHits + 1 },
    // Facet values are counted from search results; nothing searches them (less to index).
    facetSearch: false,
    // Meilisearch's own prefix search covers the last query word only, and ranks such a match
    // like an exact one. Off: every word's prefixes are stored (prefixes* attributes), so all
    // query words match as a prefix and rank below an exact word, as in Postgres ("12 Main
    // Street" finds "120 Main Street", second).
    prefixSearch: 'disabled',
  };
}

/** What Meilisearch stores per address: keys to filter, sort and facet on, the folded words, and the document. */
export interface MeiliDocument {
  id: string;
  version: number;
  updatedAtTs: number;
  status: AddressDoc['status'];
  country: string;
  region: string | null;
  city: string;
  cityKey: string;
  regionKey: string | null;
  /** Every prefix of the postal code ("0", "04", … "04210"): prefix filtering with plain equality. */
  postalPrefixes: string[];
  searchPrimary: string;
  searchSecondary: string;
  searchAlternates: string;
  prefixesPrimary: string;
  prefixesSecondary: string;
  prefixesAlternates: string;
  doc: AddressDoc;
}

function foldKey(text: string): string {
  return foldText(text).trim();
}

/** The prefixes of each tier's words, each in the best tier it occurs in, none that is a whole word. */
function tierPrefixes(words: ReturnType<typeof documentWords>) {
  const taken = new Set([...words.primary, ...words.secondary, ...words.alternates]);
  const tier = (list: string[]) => {
    const out = wordPrefixes(list).filter((p) => !taken.has(p));
    for (const p of out) taken.add(p);
    return out.join(' ');
  };
  return {
    prefixesPrimary: tier(words.primary),
    prefixesSecondary: tier(words.secondary),
    prefixesAlternates: tier(words.alternates),
  };
}

export function toMeiliDocument(doc: AddressDoc): MeiliDocument {
  const key = postalCodeKey(doc.postalCode);
  const words = documentWords(doc);
  return {
    id: doc.id,
    version: doc.version,
    updatedAtTs: Date.parse(doc.updatedAt),
    status: doc.status,
    country: doc.country,
    region: doc.region,
    city: doc.city,
    cityKey: foldKey(doc.city),
    regionKey: doc.region === null ? null : foldKey(doc.region),
    postalPrefixes: Array.from({ length: key.length }, (_, i) => key.slice(0, i + 1)),
    searchPrimary: words.primary.join(' '),
    searchSecondary: words.secondary.join(' '),
    searchAlternates: words.alternates.join(' '),
    ...tierPrefixes(words),
    doc,
  };
}

/**
 * Meilisearch refuses a document whose id is not 1–511 bytes of a–z, A–Z, 0–9, "-" and "_" — and
 * with it the whole task, i.e. the whole batch. Address ids are UUIDs, so this never trips for
 * real data; the adapter checks anyway and leaves such a document out (logged) instead.
 */
export function isValidDocumentId(id: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(id) && Buffer.byteLength(id) <= 511;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function idFilter(ids: readonly string[]): string {
  return `id IN [${ids.map(quote).join(', ')}]`;
}

/** Each of a query's filters as a Meilisearch filter expression, with what the caller gave. */
export function meiliFilterParts(query: SearchQuery): Array<UnmatchedFilter & { filter: string }> {
  const out: Array<UnmatchedFilter & { filter: string }> = [];
  const add = (field: FilterField, value: string | undefined, filter: () => string) => {
    if (value) out.push({ field, value, filter: filter() });
  };
  add('country', query.country, () => `country = ${quote(query.country!.toUpperCase())}`);
  // A region also matches its ISO 3166-2 code or name, as in Postgres (filter-forms.ts).
  add('region', query.region, () => {
    const keys = [...new Set(regionForms(query.region!, query.country).map(foldKey))];
    return keys.length === 1 ? `regionKey = ${quote(keys[0]!)}` : `regionKey IN [${keys.map(quote).join(', ')}]`;
  });
  add('city', query.city, () => `cityKey = ${quote(foldKey(query.city!))}`);
  add('status', query.status, () => `status = ${quote(query.status!)}`);
  add('postalCode', query.postalCode, () => `postalPrefixes = ${quote(postalCodeKey(query.postalCode!))}`);
  return out;
}

/** The Meilisearch filter for a query's filters (an AND of equalities). */
export function meiliFilter(query: SearchQuery): string[] {
  return meiliFilterParts(query).map((part) => part.filter);
}

/**
 * "Did you mean" from the documents Meilisearch returned: Meilisearch has no call that lists its
 * words, so the words of these hits stand in for the vocabulary the Postgres adapter keeps. A
 * query word that none of them holds (as a word or the start of one) is replaced by the nearest
 * of their words by the same rules (spelling.ts `alternativesFor`). Meilisearch matched the typo
 * itself (its typo tolerance counts a swap as one typo), so the word it meant is among the hits.
 */
export function didYouMeanFromHits(words: readonly string[], docs: readonly AddressDoc[]): string | null {
  const counts = new Map<string, number>();
  for (const doc of docs) {
    const w = documentWords(doc);
    for (const word of new Set([...w.primary, ...w.secondary, ...w.alternates])) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const corrections = new Map<string, string>();
  for (const word of words.filter(fuzzyAllowed)) {
    const found: FoundWord[] = [...counts].map(([v, documents]) => {
      const similarity = trigramSimilarity(word, v);
      return { word: v, documents, similarity: similarity >= 0.5 ? similarity : 0 };
    });
    const longer = found.filter((f) => f.word !== word && f.word.startsWith(word)).map((f) => f.documents);
    const { correction } = readWord(word, {
      documents: counts.get(word) ?? 0,
      prefixed: Math.max(0, ...longer),
      found,
    });
    if (correction) corrections.set(word, correction);
  }
  return didYouMean(words, corrections);
}

/** The parameters every search shares, whatever words it sends. */
interface CommonParams {
  filter: Filter;
  sort?: string[];
  matchingStrategy: 'all';
  attributesToRetrieve: string[];
  locales: string[];
}

function commonParams(query: SearchQuery): CommonParams {
  return {
    filter: meiliFilter(query),
    ...(query.sort === 'updated' ? { sort: ['updatedAtTs:desc', 'id:asc'] } : {}),
    // Every word must match; the fallback below drops words itself (matchingStrategy "last"
    // would drop them from the end only, and down to one word).
    matchingStrategy: 'all',
    attributesToRetrieve: ['doc'],
    locales: MEILI_LOCALES,
  };
}

/**
 * The search for every word of `words` (normalize.ts queryWords of the query: folded, at most ten,
 * so Meilisearch never sees punctuation, quotes or "-" it would read as operators).
 */
export function searchRequest(query: SearchQuery, words: readonly string[]): { q: string; params: SearchParams } {
  return {
    q: words.join(' '),
    params: { ...commonParams(query), facets: [...FACET_FIELDS], page: query.page, hitsPerPage: query.perPage },
  };
}

/** A federated search with exhaustive paging (federation.page/hitsPerPage, not yet in the client's types). */
export type FederatedSearchRequest = FederatedMultiSearchParams & {
  federation: FederatedMultiSearchParams['federation'] & { page: number; hitsPerPage: number };
};

/** One merged, exhaustively counted page of a federated search, with the facets of the union. */
function federation(query: SearchQuery, indexUid: string): FederatedSearchRequest['federation'] {
  return { page: query.page, hitsPerPage: query.perPage, facetsByIndex: { [indexUid]: [...FACET_FIELDS] } };
}

/**
 * When nothing matches every word: the documents that match all words but one, any one — one
 * query per word left out, merged by Meilisearch into one ranked, de-duplicated list whose total
 * and facets count the union (the Postgres adapter's OR of ANDs). Null when there is no word to
 * leave out (leaving out the only word would match everything).
 */
export function fallbackRequest(
  query: SearchQuery,
  words: readonly string[],
  indexUid: string,
): FederatedSearchRequest | null {
  if (words.length < 2) return null;
  const common = commonParams(query);
  return {
    federation: federation(query, indexUid),
    queries: words.map((_, skip) => ({
      indexUid,
      q: words.filter((_, i) => i !== skip).join(' '),
      ...common,
    })),
  };
}

/** How much a match of the words as typed weighs against one of the corrected words. */
export const TYPED_QUERY_WEIGHT = 0.5;

/**
 * When "did you mean" found a correction: the corrected words and the words as typed in one
 * federated search, the typed ones weighing TYPED_QUERY_WEIGHT, so the corrected street ranks
 * first (as Postgres ranks the most common correction first) and the other typo matches still
 * follow; total and facets count the union. Null for `sort=updated`, where ranking plays no part.
 */
export function correctedRequest(
  query: SearchQuery,
  words: readonly string[],
  corrected: readonly string[],
  indexUid: string,
): FederatedSearchRequest | null {
  if (query.sort !== 'relevance') return null;
  const common = commonParams(query);
  return {
    federation: federation(query, indexUid),
    queries: [
      { indexUid, q: corrected.join(' '), ...common },
      { indexUid, q: words.join(' '), ...common, federationOptions: { weight: TYPED_QUERY_WEIGHT } },
    ],
  };
}

/** The hits of a response that lie within the cap (Meilisearch counts one past it). */
export function hitsWithinCap<T>(hits: readonly T[], query: SearchQuery, maxTotalHits: number): T[] {
  return hits.slice(0, pageWindow(query, maxTotalHits).limit);
}

/** Settings whose value is a set: Meilisearch returns them sorted, whatever order they were sent in. */
const SET_VALUED = new Set([
  'filterableAttributes',
  'sortableAttributes',
  'stopWords',
  'disableOnAttributes',
  'disableOnWords',
  'separatorTokens',
  'nonSeparatorTokens',
  'dictionary',
]);
/** Maps compared whole: a key the server has and we do not want is a difference too. */
const WHOLE_MAPS = new Set(['synonyms', 'sortFacetValuesBy']);

function sameSetting(key: string, wanted: unknown, actual: unknown): boolean {
  if (Array.isArray(wanted)) {
    if (!Array.isArray(actual) || actual.length !== wanted.length) return false;
    const [w, a] = SET_VALUED.has(key) ? [[...wanted].sort(), [...actual].sort()] : [wanted, actual];
    return w.every((value, i) => sameSetting(key, value, a[i]));
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const wantedKeys = Object.keys(wanted);
    if (WHOLE_MAPS.has(key) && Object.keys(actual).length !== wantedKeys.length) return false;
    // Otherwise only what we set: the server reports fields we leave at their default.
    return wantedKeys.every((k) =>
      sameSetting(k, (wanted as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k]),
    );
  }
  return Object.is(wanted, actual);
}

/**
 * The settings to send: only those the server does not already have (GET settings). Sending
 * settings is a task that can reindex every document, so an unchanged start sends nothing.
 */
export function settingsToUpdate(wanted: Settings, current: Settings): Settings {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (!sameSetting(key, value, (current as Record<string, unknown>)[key])) out[key] = value;
  }
  return out as Settings;
}
