import { randomUUID } from 'node:crypto';
import { authorize } from '@/lib/auth/request-actor';
import { commandMetadata, dispatch } from '../_lib/address-commands';
import { apiRoute, parse, readJson } from '../_lib/http';
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
