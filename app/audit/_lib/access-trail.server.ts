import { z } from 'zod';
import type { Prisma } from '@/generated/prisma/client';
import type { AccessAction } from '@/lib/access-log';
import type { Db } from '@/lib/db';
import { parseAt } from '../../addresses/_lib/labels';

export const ACCESS_ACTIONS = [
  'audit.page',
  'audit.export',
  'timeline.view',
  'access.page',
] as const satisfies readonly AccessAction[];

export const ACCESS_ACTION_LABELS: Record<AccessAction, string> = {
  'audit.page': 'Audit log page',
  'audit.export': 'Audit export',
  'timeline.view': 'Address timeline',
  'access.page': 'Access trail page',
};

const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((v) => v || undefined)
    .optional();

const day = (end: boolean) =>
  text(40).transform((v, ctx) => {
    if (v === undefined) return undefined;
    const at = /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T${end ? '23:59:59.999' : '00:00:00.000'}Z`) : parseAt(v);
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
    .regex(/^\d{1,19}$/, 'not a page of this trail')
    .optional(),
});

export type AccessQuery = z.output<typeof accessQuerySchema>;

export interface AccessRecord {
  id: string;
  accessedAt: string;
  actor: { id: string; name: string; role: string };
  action: AccessAction;
  addressId: string | null;
  filter: Record<string, unknown>;
  rowCount: number;
}

/** One page of the trail, newest first, keyset on id (every filter has an index ending in id). */
export async function readAccessTrail(
  db: Db,
  query: AccessQuery,
  limit = 50,
): Promise<{ records: AccessRecord[]; nextBefore: string | null }> {
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
