import { Readable } from 'node:stream';
import { authorize } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { importReportCsv } from '@/lib/import-jobs';
import { apiRoute, HttpError, otherMethods, parse, type RouteContext } from '../../../_lib/http';
import { importIdParams } from '../../../_lib/schemas';

/**
 * GET /api/imports/{id}/report: the rejected rows of an upload as CSV, the layout of
 * `npm run import --report` (row, reasons, the file's own columns), streamed from the database.
 */
export const GET = apiRoute<{ id: string }>(async (request, context: RouteContext<{ id: string }>) => {
  await authorize(request, 'address:write');
  const { id } = parse(importIdParams, await context.params);
  const rows = await importReportCsv(prisma(), id);
  if (!rows) throw new HttpError(404, 'not_found', `no import ${id}`);
  return new Response(Readable.toWeb(Readable.from(rows)) as ReadableStream, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="import-${id}-rejected.csv"`,
      'cache-control': 'no-store',
    },
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
