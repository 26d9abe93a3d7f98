import { auditPageResponse, loadAuditView } from '@/app/audit/_lib/audit-log.server';
import { auditQuerySchema } from '@/app/audit/_lib/audit-query';
import { trackAccess } from '@/lib/access-log';
import { authorize } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { apiRoute, json, otherMethods } from '../_lib/http';
import { auditParams } from './audit-params';

/**
 * The audit log (README "Audit log"): every event, newest first, filtered by the same
 * parameters and qualifiers as the /audit page. Pass `next` back as `cursor` for the next page;
 * the pages of one walk show exactly the events of its first page's snapshot.
 */
export const GET = apiRoute(async (request, _context, { requestId }) => {
  const actor = await authorize(request, 'audit:read');
  const { params, terms, filter, cursor } = auditParams(auditQuerySchema, request);
  const view = await loadAuditView(prisma(), filter, { cursor, limit: params.limit });
  const body = auditPageResponse(view, terms);
  trackAccess({
    actor,
    action: 'audit.page',
    filter: { q: body.query, page: cursor?.before ? 'next' : 'first' },
    rowCount: view.rows.length,
    requestId,
  });
  return json(body);
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
