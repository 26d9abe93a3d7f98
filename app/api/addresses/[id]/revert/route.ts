import { authorize } from '@/lib/auth/request-actor';
import { addressIdParam, commandMetadata, dispatch } from '../../../_lib/address-commands';
import { apiRoute, otherMethods, parse, readJson } from '../../../_lib/http';
import { revertBody } from '../../../_lib/schemas';

/** Undo one earlier change or correction by restoring the values it replaced. */
export const POST = apiRoute<{ id: string }>(async (request, { params }) => {
  const actor = await authorize(request, 'address:write');
  const addressId = addressIdParam((await params).id);
  const body = await readJson(request);
  const input = parse(revertBody, body);
  return dispatch(
    request,
    {
      type: 'RevertChange',
      data: { addressId, version: input.version, reason: input.reason },
      metadata: commandMetadata(request, actor),
    },
    { body, expectedVersion: input.expectedVersion },
  );
});

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods('POST');
