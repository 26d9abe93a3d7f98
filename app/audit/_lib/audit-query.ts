import { z } from 'zod';
import { type AuditCursor, decodeAuditCursor } from './audit-cursor';
import { type AuditFilter, parseQuery, QualifierError, type Term, toFilter } from './qualifiers';

/**
 * The one query schema of the audit log, shared by the `/audit` page, `GET /api/audit` and the
 * export: the search box `q` (with qualifiers) and the same filters as separate parameters, which
 * are read as if they had been typed as qualifiers (so both spellings mean exactly the same).
 */

const text = (max: number) => z.string().trim().max(max).optional();

/** Separate parameters and the qualifier each one stands for. */
export const FILTER_PARAMS = {
  actor: 'actor',
  type: 'type',
  source: 'source',
  address: 'address',
  correlation: 'correlation',
  reason: 'reason',
  city: 'city',
} as const;

export const auditFilterParams = z.strictObject({
  q: z.string().max(2000).default(''),
  actor: text(200),
  type: text(200),
  source: text(20),
  /** Recorded at or after (a date means its first instant, UTC). */
  from: text(40),
  /** Recorded at or before (a date means the whole day, UTC). */
  to: text(40),
  address: text(64),
  correlation: text(200),
  reason: text(200),
  city: text(100),
});

export const auditQuerySchema = auditFilterParams.extend({
  cursor: z.string().max(6000).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const auditExportSchema = auditFilterParams.extend({
  format: z.enum(['csv', 'ndjson'], { error: 'format must be csv or ndjson' }),
});

export type AuditFilterParams = z.output<typeof auditFilterParams>;

export interface ParsedAuditQuery {
  /** Every term in effect, the typed ones first: what the chips show. */
  terms: Term[];
  filter: AuditFilter;
}

/** An input the caller can fix, with the parameter it is in. */
export class AuditQueryError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The terms of the search box plus one per separate parameter. */
export function termsOf(params: AuditFilterParams): Term[] {
  let terms: Term[];
  try {
    terms = parseQuery(params.q);
  } catch (error) {
    if (error instanceof QualifierError) throw new AuditQueryError('q', error.message);
    throw error;
  }
  for (const [param, key] of Object.entries(FILTER_PARAMS) as [keyof typeof FILTER_PARAMS, Term['key']][]) {
    const value = params[param];
    if (value) terms.push({ key, value });
  }
  if (params.from) terms.push({ key: 'created', value: `>=${params.from}` });
  if (params.to) terms.push({ key: 'created', value: `<=${params.to}` });
  return terms;
}

export function parseAuditFilter(params: AuditFilterParams): ParsedAuditQuery {
  const terms = termsOf(params);
  try {
    return { terms, filter: toFilter(terms) };
  } catch (error) {
    if (error instanceof QualifierError) {
      // Name the parameter the value came from when it was a separate one.
      const fromParam = Object.entries(FILTER_PARAMS).find(([, key]) => key === error.qualifier)?.[0];
      const path = fromParam && params[fromParam as keyof typeof FILTER_PARAMS] ? fromParam : 'q';
      throw new AuditQueryError(path, error.message);
    }
    throw error;
  }
}

export function parseCursor(text: string | undefined): AuditCursor | null {
  if (text === undefined || text === '') return null;
  const cursor = decodeAuditCursor(text);
  if (!cursor)
    throw new AuditQueryError('cursor', 'the cursor is not one this server handed out; start from the first page');
  return cursor;
}
