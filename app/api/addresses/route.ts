import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { authorize } from '@/lib/auth/request-actor';
import { searchAddresses } from '@/projections/read-side';
import { ADDRESS_STATUSES, SEARCH_SORTS } from '@/projections/search/search-index';
import { commandMetadata, dispatch } from '../_lib/address-commands';
import { apiRoute, json, parse, readJson } from '../_lib/http';
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
    z.string().trim().max(max).optional(),
  );

const searchParams = z.object({
  q: optionalText(200),
  country: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .trim()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US')
      .transform((c) => c.toUpperCase())
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
    lag: result.lag,
  });
});
