import { authorize } from '@/lib/auth/request-actor';
import { addressIdParam } from '../../../../_lib/address-commands';
import { apiRoute, otherMethods, parse, readJson } from '../../../../_lib/http';
import { decideParkedResponse } from '../../../../_lib/parked-decisions';
import { retryParkedBody } from '../../../../_lib/schemas';

/** Admins: apply a parked address's events again (after a fix), from the event that failed. */
export const POST = apiRoute<{ id: string }>(async (request, { params }) => {
  const actor = await authorize(request, 'admin');
  const addressId = addressIdParam((await params).id);
  const input = parse(retryParkedBody, await readJson(request));
  return decideParkedResponse(addressId, 'retry', input.reason, actor);
});

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods('POST');
