import type { Actor } from '@/domain/messages';
import { decideParked, type ParkedAction } from '@/projections/parking';
import { readSide } from '@/projections/read-side';
import { HttpError, json } from './http';

/**
 * Records a retry or skip of a parked address and answers 202: the active projector carries it
 * out on its next batch (`GET /api/projections` shows the address gone from `parked`, or parked
 * again with one more attempt). 404 when no projection has this address parked.
 */
export async function decideParkedResponse(
  addressId: string,
  action: ParkedAction,
  reason: string | undefined,
  actor: Actor,
): Promise<Response> {
  const decided = await decideParked(readSide().pool, addressId, { action, reason: reason ?? null, actor });
  if (decided.length === 0) throw new HttpError(404, 'not_found', `address ${addressId} is not parked`);
  return json(
    {
      addressId,
      action,
      projections: decided.map((p) => ({ name: p.projection, eventId: p.eventId, position: p.position })),
    },
    { status: 202 },
  );
}
