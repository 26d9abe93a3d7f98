import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { authorize } from '@/lib/auth/request-actor';
import { hasForbiddenCharacters } from '@/lib/validation/address';
import { searchAddresses } from '@/projections/read-side';
import { countryCode } from '@/projections/search/filter-forms';
import { ADDRESS_STATUSES, SEARCH_SORTS } from '@/projections/search/search-index';
import { commandMetadata, dispatch } from '../_lib/address-commands';
import { apiRoute, json, otherMethods, parse, readJson } from '../_lib/http';
import { registerBody } from '../_lib/schemas';

/** Register an address: 201 {id, version, position}. */
export const POST = apiRoute(async (request) => {
  const actor = await authorize(request, 'address:write');
  const body = await readJson(request);
  const fields = parse(registerBody, body);
  return dispatch(
    request,
    { type: 'RegisterAddress', data: { addressId: randomUUID(), fields }, metadata: commandMetadata(request, actor) },
    { body, status: 201 },
  );
});

/** An empty query parameter (`?city=`) means "no filter", not "a city named ''". */
const optionalText = (max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .trim()
      .max(max)
      // A NUL reached PostgreSQL and was a 500; nothing invisible can match an address anyway.
      .refine((v) => !hasForbiddenCharacters(v), { error: 'must not contain control or invisible characters' })
      .optional(),
  );

const searchParams = z.object({
  q: optionalText(200),
  // What people type ("US", "USA", "United States") becomes the alpha-2 code the index holds; a
  // value that names no country is refused, not ignored (it would silently widen the search).
  country: optionalText(100).pipe(
    z
      .string()
      .refine((c) => countryCode(c) !== null, {
        error: 'must be a country: an ISO 3166-1 code (US, USA) or its English name (United States)',
      })
      .transform((c) => countryCode(c)!)
      .optional(),
  ),
  region: optionalText(100),
  city: optionalText(100),
  postalCode: optionalText(20),
  status: z.enum(ADDRESS_STATUSES).optional(),
  sort: z.enum(SEARCH_SORTS).default('relevance'),
  page: z.coerce.number().int().min(1).max(1_000).default(1),
  perPage: z.coerce.number().int().min(1).max(100).default(20),
});

/**
 * Search (DESIGN §6): reads only the search index, so it is eventually consistent; `lag` says by
 * how much (null when the database cannot be asked, e.g. Meilisearch answering during an outage).
 */
export const GET = apiRoute(async (request) => {
  await authorize(request, 'address:read');
  const query = parse(searchParams, Object.fromEntries(new URL(request.url).searchParams));
  const result = await searchAddresses(query);
  return json({
    hits: result.hits,
    total: result.total,
    totalIsCapped: result.totalIsCapped,
    page: result.page,
    perPage: result.perPage,
    facets: result.facets,
    didYouMean: result.didYouMean,
    unmatchedFilters: result.unmatchedFilters,
    lag: result.lag,
  });
});

export const { PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET', 'POST');
