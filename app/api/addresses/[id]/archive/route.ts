import { authorize } from '@/lib/auth/request-actor';
import { addressIdParam, commandMetadata, dispatch } from '../../../_lib/address-commands';
import { apiRoute, otherMethods, parse, readJson } from '../../../_lib/http';
import { archiveBody } from '../../../_lib/schemas';

export const POST = apiRoute<{ id: string }>(async (request, { params }) => {
  const actor = await authorize(request, 'address:write');
  const addressId = addressIdParam((await params).id);
  const body = await readJson(request);
  const input = parse(archiveBody, body);
  return dispatch(
    request,
    { type: 'ArchiveAddress', data: { addressId, reason: input.reason }, metadata: commandMetadata(request, actor) },
    { body, expectedVersion: input.expectedVersion },
  );
});

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods('POST');
