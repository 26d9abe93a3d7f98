import { authorize } from '@/lib/auth/request-actor';
import { projectionStatus } from '@/projections/read-side';
import { apiRoute, json, otherMethods } from '../_lib/http';

export const dynamic = 'force-dynamic';

/**
 * Status of every projection (DESIGN §5): head position, checkpoint, lag in events and seconds,
 * last error, and whether a worker is alive (holds the projection's lock right now).
 */
export const GET = apiRoute(async (request) => {
  await authorize(request, 'address:read');
  return json(await projectionStatus());
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
