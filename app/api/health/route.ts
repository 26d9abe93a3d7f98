import { prisma } from '@/lib/db';
import { apiRoute, json } from '../_lib/http';

export const dynamic = 'force-dynamic';

/** Liveness for load balancers and `npm start`'s smoke check: 503 when the database is unreachable. */
export const GET = apiRoute(async () => {
  const started = performance.now();
  let db: { status: 'ok' | 'down'; ms?: number; error?: string };
  try {
    await prisma().$queryRaw`SELECT 1`;
    db = { status: 'ok', ms: Math.round(performance.now() - started) };
  } catch {
    db = { status: 'down', error: 'database unreachable' };
  }
  const status = db.status === 'ok' ? 'ok' : 'down';
  return json({ status, checks: { db } }, { status: status === 'ok' ? 200 : 503 });
});
