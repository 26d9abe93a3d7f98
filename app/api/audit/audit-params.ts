import type { z } from 'zod';
import { type AuditFilterParams, AuditQueryError, parseAuditFilter, parseCursor } from '@/app/audit/_lib/audit-query';
import { parse, validationFailed } from '../_lib/http';

/**
 * The audit routes' query: the page's own schema (app/audit/_lib/audit-query.ts), with a bad
 * qualifier or cursor answered as `validation_failed` naming it.
 */
export function auditParams<S extends z.ZodType<AuditFilterParams & { cursor?: string }>>(schema: S, request: Request) {
  const params = parse(schema, Object.fromEntries(new URL(request.url).searchParams));
  try {
    return { params, ...parseAuditFilter(params), cursor: parseCursor(params.cursor) };
  } catch (error) {
    if (error instanceof AuditQueryError) throw validationFailed([{ path: error.path, message: error.message }]);
    throw error;
  }
}
