import { InvalidCursorError } from './errors';

/**
 * A position in the gap-safe global order: the writing transaction's id and the event's position.
 * Readers order by the pair, so the cursor must carry both (the position alone is not monotonic
 * in commit order).
 */
export interface GlobalCursor {
  transactionId: string;
  position: string;
}

/** xid8 is an unsigned 64-bit integer; positions are a signed bigint. */
const MAX_TRANSACTION_ID = 2n ** 64n - 1n;
const MAX_POSITION = 2n ** 63n - 1n;

export const START: GlobalCursor = { transactionId: '0', position: '0' };

export function encodeCursor(cursor: GlobalCursor): string {
  return `${cursor.transactionId}-${cursor.position}`;
}

export function decodeCursor(text: string | null | undefined): GlobalCursor {
  if (text === null || text === undefined || text === '') return START;
  const match = /^(\d{1,20})-(\d{1,19})$/.exec(text);
  // Digits alone let 2^63 through: PostgreSQL then refused the bigint mid-query (a 500, or a
  // live stream that died after its 200 and was reopened by the browser every 2 s).
  if (!match || BigInt(match[1]!) > MAX_TRANSACTION_ID || BigInt(match[2]!) > MAX_POSITION) {
    throw new InvalidCursorError(text);
  }
  return { transactionId: match[1]!, position: match[2]! };
}

export function compareCursors(a: GlobalCursor, b: GlobalCursor): number {
  const tx = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const pos = BigInt(a.position) - BigInt(b.position);
  return pos === 0n ? 0 : pos < 0n ? -1 : 1;
}
