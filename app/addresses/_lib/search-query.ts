import { z } from 'zod';
import { hasForbiddenCharacters } from '@/lib/validation/forbidden-characters';
import { countryCode } from '@/projections/search/filter-forms';
import { ADDRESS_STATUSES, SEARCH_SORTS, type SearchQuery } from '@/projections/search/search-index';

/*
 * The one search-query schema: `GET /api/addresses` parses its parameters with it (a bad value is
 * a 422 `validation_failed` naming the parameter), and the search page parses its URL with it, on
 * the server for the first paint and in the browser after every keystroke, Back or Forward (a bad
 * value is dropped: a hand-edited link still shows a search, never an error page). One schema, so
 * the page can never ask the API for something it refuses, nor read a link the API reads otherwise.
 */

export const SEARCH_PER_PAGE = 20;
export const SEARCH_MAX_PER_PAGE = 100;
export const SEARCH_MAX_PAGE = 1_000;

/** An empty parameter (`?city=`, or a form's blank field) means "no filter", not "a city named ''". */
const blankIsAbsent = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const text = (max: number) =>
  z.preprocess(
    blankIsAbsent,
    z
      .string()
      .trim()
      .max(max)
      // A NUL reached PostgreSQL and was a 500; nothing invisible can match an address anyway.
      .refine((v) => !hasForbiddenCharacters(v), { error: 'must not contain control or invisible characters' })
      .optional(),
  );

const whole = (max: number) => z.preprocess(blankIsAbsent, z.coerce.number().int().min(1).max(max).optional());

export const searchQuerySchema = z.object({
  q: text(200),
  // What people type ("US", "USA", "United States") becomes the alpha-2 code the index holds; a
  // value that names no country is refused, not ignored (it would silently widen the search).
  country: text(100).pipe(
    z
      .string()
      .refine((c) => countryCode(c) !== null, {
        error: 'must be a country: an ISO 3166-1 code (US, USA) or its English name (United States)',
      })
      .transform((c) => countryCode(c)!)
      .optional(),
  ),
  region: text(100),
  city: text(100),
  postalCode: text(20),
  status: z.preprocess(blankIsAbsent, z.enum(ADDRESS_STATUSES).optional()),
  sort: z.preprocess(blankIsAbsent, z.enum(SEARCH_SORTS).optional()),
  page: whole(SEARCH_MAX_PAGE),
  perPage: whole(SEARCH_MAX_PER_PAGE),
});

/** What a search URL asks for; absent means the default (see `resolveSearchQuery`). */
export type SearchParams = z.output<typeof searchQuerySchema>;
export type SearchParamKey = keyof SearchParams;

export const SEARCH_PARAM_KEYS = Object.keys(searchQuerySchema.shape) as SearchParamKey[];

/** `?a=1&a=2` or a Next `searchParams` object → one string per known key (the first one). */
export function rawSearchParams(
  input: URLSearchParams | Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SEARCH_PARAM_KEYS) {
    const value = input instanceof URLSearchParams ? input.get(key) : input[key];
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

/** A filter of a link that the schema refused and the page searched without (see `readSearchParams`). */
export interface RefusedFilter {
  field: (typeof FILTER_KEYS)[number];
  value: string;
  /** The schema's reason, as the API's 422 gives it. */
  message: string;
}

/** The parameters that narrow the result: searching without one of them widens it. */
export const FILTER_KEYS = [
  'country',
  'region',
  'city',
  'postalCode',
  'status',
] as const satisfies readonly SearchParamKey[];

/**
 * The page's reading: each parameter the schema refuses is dropped and the rest kept, so
 * `?q=main&page=0` still searches for "main". A dropped filter is also returned, so the page can
 * say it searched without it (`?country=Narnia` is a 422 at the API; quietly showing every
 * country instead would look like an answer).
 */
export function readSearchParams(raw: Record<string, unknown>): { params: SearchParams; refused: RefusedFilter[] } {
  const input = { ...raw };
  const refused: RefusedFilter[] = [];
  for (let attempt = 0; attempt <= SEARCH_PARAM_KEYS.length; attempt++) {
    const result = searchQuerySchema.safeParse(input);
    if (result.success) return { params: result.data, refused };
    for (const issue of result.error.issues) {
      const key = String(issue.path[0]);
      const field = FILTER_KEYS.find((k) => k === key);
      if (field && key in input) refused.push({ field, value: String(input[key]), message: issue.message });
      delete input[key];
    }
  }
  return { params: {}, refused };
}

export function cleanSearchParams(raw: Record<string, unknown>): SearchParams {
  return readSearchParams(raw).params;
}

/** Defaults applied: best match when there is text to match, else the most recently updated first. */
export function resolveSearchQuery(params: SearchParams): SearchQuery {
  return {
    q: params.q,
    country: params.country,
    region: params.region,
    city: params.city,
    postalCode: params.postalCode,
    status: params.status,
    sort: params.sort ?? (params.q ? 'relevance' : 'updated'),
    page: params.page ?? 1,
    perPage: params.perPage ?? SEARCH_PER_PAGE,
  };
}

/** The query string of a search: keys in one order, nothing empty, page 1 left out. */
export function searchQueryString(params: Partial<Record<SearchParamKey, string | number | undefined>>): string {
  const qs = new URLSearchParams();
  for (const key of SEARCH_PARAM_KEYS) {
    const value = params[key];
    if (value === undefined || value === '' || (key === 'page' && Number(value) === 1)) continue;
    qs.set(key, String(value));
  }
  return qs.toString();
}

/** A link to the search page with some parameters changed (`undefined` removes one); the page resets unless set. */
export function searchHref(
  params: SearchParams,
  changes: Partial<Record<SearchParamKey, string | number | undefined>> = {},
): string {
  const s = searchQueryString({ ...params, page: undefined, ...changes });
  return s ? `/addresses?${s}` : '/addresses';
}

/** The API's URL for a search, every default spelled out so the answer does not depend on the API's own. */
export function searchApiUrl(query: SearchQuery): string {
  return `/api/addresses?${searchQueryString(query)}`;
}

/** The fields typed into text boxes, which change the URL as the user types. */
export const TYPED_KEYS = ['q', 'country', 'region', 'city', 'postalCode'] as const satisfies readonly SearchParamKey[];
export type TypedKey = (typeof TYPED_KEYS)[number];

/**
 * Whether typing makes a new history entry or rewrites the current one. Typing on (or deleting
 * back) within one word rewrites it, so Back does not step through "m", "ma", "mai"; starting from
 * an empty box, or typing something that is neither a continuation nor a shortening of what the
 * URL holds, pushes, so Back returns to the previous search.
 */
export function historyModeForTyping(
  current: Partial<Record<TypedKey, string>>,
  next: Partial<Record<TypedKey, string>>,
): 'push' | 'replace' {
  for (const key of TYPED_KEYS) {
    const before = (current[key] ?? '').trim().toLowerCase();
    const after = (next[key] ?? '').trim().toLowerCase();
    if (before === after) continue;
    if (before === '' || !(after.startsWith(before) || before.startsWith(after))) return 'push';
  }
  return 'replace';
}
