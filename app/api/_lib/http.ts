import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AddressNotFound, isDomainError } from '@/domain/address/errors';
import { addressIdFromStream } from '@/domain/address/stream';
import {
  DuplicateAddressError,
  IdempotencyKeyReusedError,
  InvalidCursorError,
  VersionConflictError,
} from '@/domain/event-store/errors';
import { ForbiddenError, UnauthorizedError } from '@/lib/auth/errors';
import { isDatabaseUnavailable } from '@/lib/db-errors';
import { logger } from '@/lib/logger';
import { formatZodIssues, InvalidInputError } from '@/lib/validation/address';

/** The documented error codes (README, HTTP API). */
export type ErrorCode =
  | 'validation_failed'
  | 'version_conflict'
  | 'duplicate_address'
  | 'rule_violated'
  | 'not_found'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'idempotency_key_reused'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'import_running'
  | 'service_unavailable'
  | 'internal_error';

/** An error the app raises itself (not a domain rule), already carrying its HTTP meaning. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function validationFailed(issues: Array<{ path: string; message: string }>): HttpError {
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return new HttpError(422, 'validation_failed', `the request is not valid: ${summary}`, { issues });
}

export function json(body: unknown, init: ResponseInit = {}): Response {
  return Response.json(body, init);
}

function errorResponse(status: number, code: ErrorCode, message: string, details?: unknown): Response {
  return json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, { status });
}

/**
 * The one place that turns failures into the documented error shape. Anything unexpected becomes a
 * 500 in the same shape with a reference id, and is logged without the request body.
 */
export function toErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof HttpError) return errorResponse(error.status, error.code, error.message, error.details);
  if (error instanceof InvalidInputError) {
    return errorResponse(422, 'validation_failed', validationFailed(error.issues).message, { issues: error.issues });
  }
  if (error instanceof z.ZodError) {
    const issues = formatZodIssues(error);
    return errorResponse(422, 'validation_failed', validationFailed(issues).message, { issues });
  }
  if (error instanceof VersionConflictError) {
    return errorResponse(
      409,
      'version_conflict',
      `the address changed since you loaded it (you had version ${error.expectedVersion}, it is now at ${error.actualVersion}); reload and try again`,
      { expectedVersion: error.expectedVersion, actualVersion: error.actualVersion },
    );
  }
  if (error instanceof DuplicateAddressError) {
    const addressId = addressIdFromStream(error.existingStreamId);
    return errorResponse(
      409,
      'duplicate_address',
      `an active address with the same street, line 2, postal code, country and owner exists: ${addressId}`,
      { addressId },
    );
  }
  if (error instanceof AddressNotFound) return errorResponse(404, 'not_found', error.message, error.details);
  if (isDomainError(error)) {
    return errorResponse(422, 'rule_violated', error.message, { rule: error.code, ...error.details });
  }
  if (error instanceof IdempotencyKeyReusedError) return errorResponse(422, error.code, error.message);
  if (error instanceof InvalidCursorError) {
    return errorResponse(422, 'validation_failed', error.message, {
      issues: [{ path: 'after', message: error.message }],
    });
  }
  if (error instanceof UnauthorizedError) return errorResponse(401, 'unauthorized', error.message);
  if (error instanceof ForbiddenError) return errorResponse(403, 'forbidden', error.message);
  if (isDatabaseUnavailable(error)) {
    logger.warn({ requestId }, 'database unavailable');
    return errorResponse(503, 'service_unavailable', 'the database is unreachable right now; try again shortly');
  }
  logger.error({ err: error, requestId }, 'unhandled error in API route');
  return errorResponse(500, 'internal_error', `something went wrong on our side (reference ${requestId})`, {
    requestId,
  });
}

/** Default cap on JSON bodies: an address is a few hundred bytes; anything near this is abuse. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON body without trusting Content-Length: the stream is cut off at the limit, so a
 * client that lies about (or omits) the length still gets a 413 instead of exhausting memory.
 */
export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as JSON (Content-Type: application/json)');
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const reader = request.body?.getReader();
  if (!reader) throw validationFailed([{ path: '', message: 'a JSON body is required' }]);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw validationFailed([{ path: '', message: 'the body is not valid JSON' }]);
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes`, { maxBytes });
}

/** Parses with zod and throws the documented 422 on failure. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationFailed(formatZodIssues(result.error));
  return result.data;
}

export interface RouteContext<P> {
  params: Promise<P>;
}

/**
 * Wraps a route handler: request id, structured access log (method, path, status, duration;
 * never bodies or headers), and the error mapping.
 */
export function apiRoute<P = Record<string, never>>(
  handler: (request: Request, context: RouteContext<P>, meta: { requestId: string }) => Promise<Response>,
) {
  return async (request: Request, context: RouteContext<P>): Promise<Response> => {
    const requestId = request.headers.get('x-request-id')?.slice(0, 64) || randomUUID();
    const started = performance.now();
    let response: Response;
    try {
      response = await handler(request, context, { requestId });
    } catch (error) {
      response = toErrorResponse(error, requestId);
    }
    response.headers.set('x-request-id', requestId);
    // Answers carry address data and who may see it depends on the caller: no cache (browser,
    // proxy or CDN) may keep a copy. A handler that needs another policy sets its own.
    if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'no-store');
    logger.info(
      {
        requestId,
        method: request.method,
        path: new URL(request.url).pathname,
        status: response.status,
        ms: Math.round(performance.now() - started),
      },
      'api request',
    );
    return response;
  };
}

type RouteHandler = (request: Request, context: RouteContext<never>) => Promise<Response>;
/** The methods a route file answers itself; OPTIONS is answered from them, HEAD by GET when it exists. */
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS: readonly Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Marks a handler that only refuses (405, the catch-all's 404): there is no access to check on it. */
export interface RefusingHandler extends RouteHandler {
  refusesEveryCall: true;
}

function refusing(handler: (request: Request) => Response): RefusingHandler {
  return Object.assign(apiRoute(async (request) => handler(request)) as RouteHandler, {
    refusesEveryCall: true as const,
  });
}

/**
 * The other methods of a route file, each answering 405 `method_not_allowed` in the documented
 * shape with `Allow`, plus OPTIONS (204 with the same `Allow`). Without it Next answers a wrong
 * method with an empty 405 (and its own OPTIONS would list these 405 handlers as allowed).
 *
 *   export const { PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET', 'POST');
 *
 * app/api/hostile-inputs.int.spec.ts fails for a route file that does not export every method.
 */
export function otherMethods<const A extends Method>(
  ...allowed: A[]
): Record<Exclude<Method, A | (A extends 'GET' ? 'HEAD' : never)> | 'OPTIONS', RefusingHandler> {
  const allow = [...new Set<string>([...allowed, ...(allowed.includes('GET' as A) ? ['HEAD'] : []), 'OPTIONS'])]
    .sort()
    .join(', ');
  const notAllowed = refusing((request) => {
    const response = errorResponse(
      405,
      'method_not_allowed',
      `${request.method.slice(0, 20)} is not allowed here; use ${allow}`,
      { allow: allow.split(', ') },
    );
    response.headers.set('allow', allow);
    return response;
  });
  const handlers: Record<string, RefusingHandler> = {
    OPTIONS: refusing(() => new Response(null, { status: 204, headers: { allow } })),
  };
  for (const method of METHODS) {
    if (!(allow.split(', ') as string[]).includes(method)) handlers[method] = notAllowed;
  }
  return handlers as ReturnType<typeof otherMethods<A>>;
}

/** The catch-all under /api: an unknown path is a 404 in the documented shape, whatever the method. */
export const unknownRoute = refusing((request) =>
  errorResponse(404, 'not_found', `no API route ${JSON.stringify(new URL(request.url).pathname.slice(0, 200))}`),
);
