import { authorize } from '@/lib/auth/request-actor';
import { postalCodeFitsCountry } from '@/lib/validation/address';
import { addressIdParam, commandMetadata, dispatch } from '../../../_lib/address-commands';
import { apiRoute, otherMethods, parse, readJson } from '../../../_lib/http';
import { correctionBody } from '../../../_lib/schemas';

/** What was recorded was wrong: fix it with a correction that names the wrong version. */
export const POST = apiRoute<{ id: string }>(async (request, { params }) => {
  const actor = await authorize(request, 'address:write');
  const addressId = addressIdParam((await params).id);
  const body = await readJson(request);
  const input = parse(correctionBody, body);
  return dispatch(
    request,
    {
      type: 'CorrectAddress',
      data: { addressId, corrects: input.corrects, fields: input.fields, reason: input.reason },
      metadata: commandMetadata(request, actor),
    },
    { body, expectedVersion: input.expectedVersion, check: postalCodeFitsCountry(input.fields, 'fields') },
  );
});

export const { GET, HEAD, PUT, PATCH, DELETE, OPTIONS } = otherMethods('POST');
