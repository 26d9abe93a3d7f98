import { z } from 'zod';
import { authorize } from '@/lib/auth/request-actor';
import { ledger } from '@/lib/ledger';
import { eventJson } from '../_lib/event-json';
import { apiRoute, json, otherMethods, parse } from '../_lib/http';
import { eventTypesParam } from '../_lib/schemas';

const query = z.strictObject({
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  types: eventTypesParam,
});

/**
 * The global feed for other systems, gap-safe: a page never skips an event that commits late.
 * Keep `next` and pass it back as `after`; an empty page means "caught up, ask again later".
 */
export const GET = apiRoute(async (request) => {
  await authorize(request, 'audit:read');
  const q = parse(query, Object.fromEntries(new URL(request.url).searchParams));
  const page = await ledger().store.readAll({ after: q.after, limit: q.limit, types: q.types });
  return json({ events: page.events.map(eventJson), next: page.next });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
