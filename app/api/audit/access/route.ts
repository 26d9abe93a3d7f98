import { accessQuerySchema, readAccessTrail } from '@/app/audit/_lib/access-trail.server';
import { trackAccess } from '@/lib/access-log';
import { authorize } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { apiRoute, json, otherMethods, parse } from '../../_lib/http';

/**
 * The access trail (README "Audit log"): who viewed or exported what, newest first, with the
 * /audit/access page's filters (`actor`, `action`, `address`, `from`, `to`). Pass `nextBefore`
 * back as `before` for the next page. Reading it is recorded in it too.
 */
export const GET = apiRoute(async (request, _context, { requestId }) => {
  const actor = await authorize(request, 'audit:read');
  const raw = Object.fromEntries(new URL(request.url).searchParams);
  const query = parse(accessQuerySchema, raw);
  const page = await readAccessTrail(prisma(), query);
  trackAccess({
    actor,
    action: 'access.page',
    filter: { ...raw, before: undefined },
    rowCount: page.records.length,
    requestId,
  });
  return json(page);
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
