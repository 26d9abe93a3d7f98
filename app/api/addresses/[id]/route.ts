import { z } from 'zod';
import { authorize } from '@/lib/auth/request-actor';
import { postalCodeFitsCountry } from '@/lib/validation/address';
import { getAddressAtLeast } from '@/projections/read-side';
import { addressIdParam, commandMetadata, dispatch } from '../../_lib/address-commands';
import { apiRoute, HttpError, json, otherMethods, parse, readJson } from '../../_lib/http';
import { changeBody, MAX_VERSION } from '../../_lib/schemas';

type Params = { id: string };

/** The real world changed (a move, a renamed street): record the new values. */
export const PATCH = apiRoute<Params>(async (request, { params }) => {
  const actor = await authorize(request, 'address:write');
  const addressId = addressIdParam((await params).id);
  const body = await readJson(request);
  const input = parse(changeBody, body);
  return dispatch(
    request,
    {
      type: 'ChangeAddress',
      data: { addressId, changes: input.changes, ...(input.reason ? { reason: input.reason } : {}) },
      metadata: commandMetadata(request, actor),
    },
    { body, expectedVersion: input.expectedVersion, check: postalCodeFitsCountry(input.changes, 'changes') },
  );
});

const readParams = z.object({
  minVersion: z.coerce.number().int().min(0).max(MAX_VERSION).optional(),
});

/** How long `?minVersion=` waits for the projector before reading the events instead (a few seconds). */
const minVersionWaitMs = () => Number(process.env.READ_MODEL_WAIT_MS) || 5_000;

/**
 * The address from the read model. With `?minVersion=N` (the version a command returned) it waits
 * until the projection has caught up with that version, so a client reads its own write. If the
 * read model cannot answer in time (projector stopped or behind) the state is folded from the
 * address's events instead: same shape, always current; `X-Read-Source` says which answered.
 */
export const GET = apiRoute<Params>(async (request, { params }) => {
  await authorize(request, 'address:read');
  const addressId = addressIdParam((await params).id);
  const { minVersion } = parse(readParams, Object.fromEntries(new URL(request.url).searchParams));
  const result = await getAddressAtLeast(addressId, minVersion ?? 0, {
    timeoutMs: minVersionWaitMs(),
    signal: request.signal,
  });
  if (result.state === 'missing') throw new HttpError(404, 'not_found', `no address with id ${addressId}`);
  if (minVersion !== undefined && result.address.version < minVersion) {
    throw new HttpError(
      404,
      'not_found',
      `address ${addressId} has no version ${minVersion} (it is at ${result.address.version})`,
      {
        minVersion,
        version: result.address.version,
      },
    );
  }
  return json(result.address, { headers: { 'x-read-source': result.source } });
});

export const { POST, PUT, DELETE, OPTIONS } = otherMethods('GET', 'PATCH');
