import { authorize } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { findImport } from '@/lib/import-jobs';
import { apiRoute, HttpError, json, otherMethods, parse } from '../../_lib/http';
import { importIdParams } from '../../_lib/schemas';

/** GET /api/imports/{id}: an upload's status and counters, what /import shows while it runs. */
export const GET = apiRoute<{ id: string }>(async (request, context) => {
  await authorize(request, 'address:write');
  const { id } = parse(importIdParams, await context.params);
  const run = await findImport(prisma(), id);
  if (!run) throw new HttpError(404, 'not_found', `no import ${id}`);
  return json(run);
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
