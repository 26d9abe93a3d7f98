import { randomUUID } from 'node:crypto';
import { addressSearch } from '@/app/addresses/_lib/address-search.server';
import { resolveSearchQuery, searchQuerySchema } from '@/app/addresses/_lib/search-query';
import { authorize } from '@/lib/auth/request-actor';
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

/**
 * Search: reads only the search index, so it is eventually consistent; `lag` says by
 * how much (null when the database cannot be asked, e.g. Meilisearch answering during an outage).
 */
export const GET = apiRoute(async (request) => {
  await authorize(request, 'address:read');
  // The same schema the search page reads its URL with (app/addresses/_lib/search-query.ts).
  const query = resolveSearchQuery(parse(searchQuerySchema, Object.fromEntries(new URL(request.url).searchParams)));
  return json(await addressSearch(query));
});

export const { PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET', 'POST');
