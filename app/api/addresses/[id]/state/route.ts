import { z } from 'zod';
import { addressStreamId } from '@/domain/address';
import { authorize } from '@/lib/auth/request-actor';
import { ledger } from '@/lib/ledger';
import { addressIdParam } from '../../../_lib/address-commands';
import { apiRoute, HttpError, json, otherMethods, parse, validationFailed } from '../../../_lib/http';
import { MAX_VERSION } from '../../../_lib/schemas';

const query = z
  .strictObject({
    version: z.coerce.number().int().min(1).max(MAX_VERSION).optional(),
    at: z.iso
      .datetime({ offset: true, error: 'at must be an ISO-8601 date-time such as 2026-01-31T12:00:00Z' })
      .optional(),
  })
  .refine((q) => !(q.version !== undefined && q.at !== undefined), { message: 'give either version or at, not both' });

/** What the address looked like at a version or an instant: a replay of its events up to there. */
export const GET = apiRoute<{ id: string }>(async (request, { params }) => {
  await authorize(request, 'address:read');
  const addressId = addressIdParam((await params).id);
  const q = parse(query, Object.fromEntries(new URL(request.url).searchParams));
  const store = ledger().store;
  const streamId = addressStreamId(addressId);
  const currentVersion = await store.streamVersion(streamId);
  if (currentVersion === 0) throw new HttpError(404, 'not_found', `no address with id ${addressId}`);
  if (q.version !== undefined && q.version > currentVersion) {
    throw validationFailed([{ path: 'version', message: `the address has versions 1 to ${currentVersion}` }]);
  }
  const { events, state } = await ledger().loadAddress(addressId, {
    toVersion: q.version,
    recordedAtOrBefore: q.at ? new Date(q.at) : undefined,
  });
  if (events.length === 0) {
    throw new HttpError(404, 'not_found', `address ${addressId} was not yet registered at ${q.at}`);
  }
  const last = events.at(-1)!;
  return json({
    id: addressId,
    version: state.version,
    status: state.status,
    ...state.fields,
    asOf: { version: last.streamVersion, recordedAt: last.recordedAt, requested: q.at ?? q.version ?? null },
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
