import { authorize } from '@/lib/auth/request-actor';
import { addressIdParam, commandMetadata, dispatch } from '../../_lib/address-commands';
import { apiRoute, parse, readJson } from '../../_lib/http';
import { changeBody, checkPostalCodeAgainstCurrent } from '../../_lib/schemas';

type Params = { id: string };

/** The real world changed (a move, a renamed street): record the new values. */
export const PATCH = apiRoute<Params>(async (request, { params }) => {
  const actor = await authorize(request, 'address:write');
  const addressId = addressIdParam((await params).id);
  const body = await readJson(request);
  const input = parse(changeBody, body);
  await checkPostalCodeAgainstCurrent(addressId, input.changes, 'changes');
  return dispatch(
    request,
    {
      type: 'ChangeAddress',
      data: { addressId, changes: input.changes, ...(input.reason ? { reason: input.reason } : {}) },
      metadata: commandMetadata(request, actor),
    },
    { body, expectedVersion: input.expectedVersion },
  );
});
