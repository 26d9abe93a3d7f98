import { prisma } from '@/lib/db';
import { readSideHealth } from '@/projections/read-side';
import { apiRoute, json, otherMethods } from '../_lib/http';

export const dynamic = 'force-dynamic';

/**
 * Liveness for load balancers and `npm start`'s smoke check: 503 when the database is unreachable
 * (commands cannot work). Search or projector trouble makes it "degraded" but still 200: reads of
 * the timeline and commands keep working, and search answers with its lag.
 */
export const GET = apiRoute(async () => {
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
  return json({ status, checks: { db, search: searchCheck, projector } }, { status: db.status === 'ok' ? 200 : 503 });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
