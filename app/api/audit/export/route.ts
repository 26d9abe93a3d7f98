import { exportAudit } from '@/app/audit/_lib/audit-export.server';
import { auditExportSchema } from '@/app/audit/_lib/audit-query';
import { formatQuery } from '@/app/audit/_lib/qualifiers';
import { trackAccess } from '@/lib/access-log';
import { authorize } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { apiRoute, otherMethods } from '../../_lib/http';
import { auditParams } from '../audit-params';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

/**
 * The filtered audit log as a file, streamed (README "Audit log": columns, manifest, how to
 * verify it). The access trail records the export once the stream ends, with its row count.
 */
export const GET = apiRoute(async (request, _context, { requestId }) => {
  const actor = await authorize(request, 'audit:read');
  const { params, terms, filter } = auditParams(auditExportSchema, request);
  const { stream, finished } = await exportAudit(prisma(), filter, terms, params.format);
  const q = formatQuery(terms);
  trackAccess(
    finished.then(({ rows, complete, manifest }) => ({
      actor,
      action: 'audit.export' as const,
      filter: { q, format: params.format, complete, ...(manifest ? { sha256: manifest.sha256 } : {}) },
      rowCount: rows,
      requestId,
    })),
  );
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return new Response(stream, {
    headers: {
      'content-type': CONTENT_TYPES[params.format],
      'content-disposition': `attachment; filename="audit-${stamp}.${params.format}"`,
      'cache-control': 'no-store',
    },
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
