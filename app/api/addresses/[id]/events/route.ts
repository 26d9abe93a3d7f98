import { z } from 'zod';
import { addressStreamId } from '@/domain/address';
import { trackAccess } from '@/lib/access-log';
import { authorize } from '@/lib/auth/request-actor';
import { ledger } from '@/lib/ledger';
import { addressIdParam } from '../../../_lib/address-commands';
import { eventJson } from '../../../_lib/event-json';
import { apiRoute, HttpError, json, otherMethods, parse } from '../../../_lib/http';
import { MAX_VERSION } from '../../../_lib/schemas';

const query = z.strictObject({
  fromVersion: z.coerce.number().int().min(1).max(MAX_VERSION).default(1),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** One address's history, straight from the event store (authoritative, never lagging). */
export const GET = apiRoute<{ id: string }>(async (request, { params }, { requestId }) => {
  const actor = await authorize(request, 'address:read');
  const addressId = addressIdParam((await params).id);
  const q = parse(query, Object.fromEntries(new URL(request.url).searchParams));
  const store = ledger().store;
  const streamId = addressStreamId(addressId);
  const events = await store.readStream(streamId, { fromVersion: q.fromVersion, limit: q.limit });
  if (events.length === 0 && (await store.streamVersion(streamId)) === 0) {
    throw new HttpError(404, 'not_found', `no address with id ${addressId}`);
  }
  // A timeline read through the API is recorded like one in the browser (README "Access trail").
  trackAccess({
    actor,
    action: 'timeline.view',
    addressId,
    filter: { fromVersion: q.fromVersion, limit: q.limit },
    rowCount: events.length,
    requestId,
  });
  const last = events.at(-1);
  return json({
    id: addressId,
    events: events.map(eventJson),
    nextFromVersion: last && events.length === q.limit ? last.streamVersion + 1 : null,
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
