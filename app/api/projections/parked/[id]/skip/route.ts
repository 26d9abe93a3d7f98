import { authorize } from '@/lib/auth/request-actor';
import { addressIdParam } from '../../../../_lib/address-commands';
import { apiRoute, otherMethods, parse, readJson } from '../../../../_lib/http';
import { decideParkedResponse } from '../../../../_lib/parked-decisions';
import { skipParkedBody } from '../../../../_lib/schemas';

/** Admins: leave the event that parked an address out of the read models for good (reason required). */
export const POST = apiRoute<{ id: string }>(async (request, { params }) => {
  const actor = await authorize(request, 'admin');
  const addressId = addressIdParam((await params).id);
  const input = parse(skipParkedBody, await readJson(request));
  return decideParkedResponse(addressId, 'skip', input.reason, actor);
});

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods('POST');
