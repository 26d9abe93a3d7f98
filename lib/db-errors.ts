/**
 * Whether an error means "the database cannot be reached right now" (as opposed to a bad query or
 * a broken rule). Callers answer 503 and may fall back to what they already know; they must not
 * report a 500 or treat it as "not found".
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
// PostgreSQL: connection exceptions (08xxx), admin shutdown / crash / cannot connect now (57P0x).
const PG_CODES = /^(08\d{3}|57P0[1-4])$/;
// Prisma: can't reach / timed out / connection closed.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017']);
const MESSAGES =
  /Connection terminated|connect ECONNREFUSED|Can't reach database|Connection refused|server closed the connection|timeout exceeded when trying to connect|DatabaseNotReachable|ConnectionClosed/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
      kind?: unknown;
    };
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code) || PG_CODES.test(code) || PRISMA_CODES.has(code)) return true;
    if (typeof e.kind === 'string' && /^(DatabaseNotReachable|ConnectionClosed|SocketTimeout)$/.test(e.kind))
      return true;
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
    current = e.cause ?? e.meta?.driverAdapterError;
  }
  return false;
}
