import { actorCan } from '@/lib/auth/permissions';
import { authenticateRequest } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { readSideHealth } from '@/projections/read-side';
import { apiRoute, json, otherMethods } from '../_lib/http';

export const dynamic = 'force-dynamic';

/** The checks (workers, lag, timings) only for a signed-in caller; never a 401 from a liveness probe. */
async function mayReadDetails(request: Request): Promise<boolean> {
  if (!request.headers.get('authorization') && !request.headers.get('cookie')) return false;
  try {
    return actorCan((await authenticateRequest(request)).actor, 'address:read');
  } catch {
    return false;
  }
}

/**
 * Liveness for load balancers and `npm start`'s smoke check: 503 when the database is unreachable
 * (commands cannot work). Search or projector trouble makes it "degraded" but still 200: reads of
 * the timeline and commands keep working, and search answers with its lag. Anonymous callers get
 * `{status}` only; the checks (workers, lag, timings) tell an attacker what is struggling, so
 * they need the same role as /api/projections.
 */
export const GET = apiRoute(async (request) => {
  const started = performance.now();
  let db: { status: 'ok' | 'down'; ms?: number; error?: string };
  try {
    await prisma().$queryRaw`SELECT 1`;
    db = { status: 'ok', ms: Math.round(performance.now() - started) };
  } catch {
    db = { status: 'down', error: 'database unreachable' };
  }
  const { search, projector } = await readSideHealth();
  const searchCheck = {
    status: search.ok ? 'ok' : 'down',
    backend: search.backend,
    ms: search.ms,
    ...(search.ok ? {} : { error: 'search backend unreachable' }),
  };
  // With Meilisearch, search keeps answering while Postgres is down: degraded, though still 503.
  const status =
    db.status === 'down'
      ? search.ok
        ? 'degraded'
        : 'down'
      : search.ok && projector.status === 'ok'
        ? 'ok'
        : 'degraded';
  const details = await mayReadDetails(request);
  return json(details ? { status, checks: { db, search: searchCheck, projector } } : { status }, {
    status: db.status === 'ok' ? 200 : 503,
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
