import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import { authorize } from '@/lib/auth/request-actor';
import { apiContentSecurityPolicy } from '@/lib/content-security-policy';
import { prisma, requireDatabaseUrl } from '@/lib/db';
import { IMPORT_SOURCE_PATTERN, ImportFileError, importSourceFromFileName } from '@/lib/import-columns';
import { ImportBusyError, MAX_UPLOAD_BYTES, startImport, uploadDir } from '@/lib/import-jobs';
import { hasForbiddenCharacters } from '@/lib/validation/address';
import { apiRoute, HttpError, json, otherMethods, parse, type RouteContext, validationFailed } from '../_lib/http';

/** What a browser or `curl --data-binary @file.csv` sends for a CSV (or gzip-compressed CSV). */
const CSV_TYPES = /^(text\/(csv|plain)|application\/(csv|vnd\.ms-excel|octet-stream|gzip|x-gzip))\s*(;|$)/i;

const uploadQuerySchema = z.object({
  source: z
    .string()
    .regex(IMPORT_SOURCE_PATTERN, 'letters, digits, ".", "-" and "_" only (at most 100)')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  filename: z
    .string()
    .max(255)
    .refine((v) => !hasForbiddenCharacters(v), 'control or invisible characters are not allowed')
    .optional(),
});

/**
 * POST /api/imports: the body is the file itself (README "Importing addresses"). The route is
 * left out of proxy.ts's matcher: Next.js copies the body of every request its proxy sees into
 * memory and cuts it at 10 MB (experimental.proxyClientMaxBodySize), which would truncate an
 * upload silently. Here the body is streamed to a temporary file and cut off at 50 MB whatever
 * Content-Length says; the run then reads that file in the background (lib/import-jobs.ts).
 */
const upload = apiRoute(async (request) => {
  const actor = await authorize(request, 'address:write');
  const query = parse(uploadQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
  const type = request.headers.get('content-type');
  if (type && !CSV_TYPES.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'upload a CSV file (text/csv), or gzip-compressed CSV');
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_UPLOAD_BYTES) throw tooLarge();
  if (!request.body) throw validationFailed([{ path: 'file', message: 'the file is empty' }]);

  const fileName = query.filename || 'upload.csv';
  const file = await receive(request.body);
  try {
    const run = await startImport({
      db: prisma(),
      databaseUrl: requireDatabaseUrl(),
      file,
      fileName,
      source: query.source ?? importSourceFromFileName(fileName),
      actor,
    });
    return json(run, { status: 202, headers: { location: `/api/imports/${run.id}` } });
  } catch (error) {
    // startImport removed the file; what it refused gets the documented shape.
    if (error instanceof ImportFileError) throw validationFailed([{ path: 'file', message: error.message }]);
    if (error instanceof ImportBusyError) {
      throw new HttpError(409, 'import_running', error.message, { source: error.source, importId: error.runningId });
    }
    throw error;
  }
});

/** proxy.ts does not see this route, so its answers get the API's policy here. */
export async function POST(request: Request, context: RouteContext<Record<string, never>>): Promise<Response> {
  const response = await upload(request, context);
  response.headers.set('content-security-policy', apiContentSecurityPolicy);
  return response;
}

/** Streams the body to a new temporary file, refusing it (413) once it passes the limit. */
async function receive(body: ReadableStream<Uint8Array>): Promise<string> {
  await mkdir(uploadDir(), { recursive: true, mode: 0o700 });
  const file = path.join(uploadDir(), `${randomUUID()}.upload`);
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > MAX_UPLOAD_BYTES ? tooLarge() : null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as WebReadableStream), limit, createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return file;
}

function tooLarge(): HttpError {
  return new HttpError(413, 'payload_too_large', `the file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`, {
    maxBytes: MAX_UPLOAD_BYTES,
  });
}

export const { GET, PUT, PATCH, DELETE, OPTIONS } = otherMethods('POST');
