import { z } from 'zod';
import type { Prisma } from '@/generated/prisma/client';
import type { AccessAction } from '@/lib/access-log';
import type { Db } from '@/lib/db';
import { hasForbiddenCharacters } from '@/lib/validation/forbidden-characters';
import { parseAt } from '../../addresses/_lib/labels';
import { ACCESS_ACTIONS, type AccessPage } from './access-page';
import { inRange } from './qualifiers';

// Control characters are refused, not passed on: PostgreSQL cannot store U+0000 in text, so a
// NUL in a filter was a 500 from the query.
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((v) => !hasForbiddenCharacters(v), 'must not contain control characters or invisible characters')
    .transform((v) => v || undefined)
    .optional();

const day = (end: boolean) =>
  text(40).transform((v, ctx) => {
    if (v === undefined) return undefined;
    const at = inRange(
      /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T${end ? '23:59:59.999' : '00:00:00.000'}Z`) : parseAt(v),
    );
    if (!at || Number.isNaN(at.getTime())) {
      ctx.addIssue({ code: 'custom', message: `${v} is not a date (YYYY-MM-DD)` });
      return z.NEVER;
    }
    return at;
  });

/** The access trail's filters (the /audit/access page). */
export const accessQuerySchema = z.strictObject({
  actor: text(200),
  action: z
    .enum(ACCESS_ACTIONS)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  address: text(64),
  from: day(false),
  to: day(true),
  before: z
    .string()
    // An id of the trail (a bigint): 2^63 passed the digits and failed in the query.
    .refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) <= 2n ** 63n - 1n, 'not a page of this trail')
    .optional(),
  /** Records per page (the page shows 50). */
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export type AccessQuery = z.output<typeof accessQuerySchema>;

/** One page of the trail, newest first, keyset on id (every filter has an index ending in id). */
export async function readAccessTrail(db: Db, query: AccessQuery): Promise<AccessPage> {
  const limit = query.limit ?? 50;
  const where: Prisma.AccessLogWhereInput = {};
  if (query.actor) {
    where.OR = [{ actorId: query.actor }, { actorName: { equals: query.actor, mode: 'insensitive' } }];
  }
  if (query.action) where.action = query.action;
  if (query.address) where.addressId = query.address.toLowerCase();
  if (query.from || query.to) where.accessedAt = { gte: query.from, lte: query.to };
  if (query.before) where.id = { lt: BigInt(query.before) };
  const rows = await db.accessLog.findMany({ where, orderBy: { id: 'desc' }, take: limit + 1 });
  const records = rows.slice(0, limit).map((r) => ({
    id: r.id.toString(),
    accessedAt: r.accessedAt.toISOString(),
    actor: { id: r.actorId, name: r.actorName, role: r.actorRole },
    action: r.action as AccessAction,
    addressId: r.addressId,
    filter: r.filter as Record<string, unknown>,
    rowCount: r.rowCount,
  }));
  return { records, nextBefore: rows.length > limit ? (records.at(-1)?.id ?? null) : null };
}
