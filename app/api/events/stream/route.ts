import { z } from 'zod';
import { decodeCursor } from '@/domain/event-store/cursor';
import { EVENTS_CHANNEL } from '@/domain/event-store/postgres-event-store';
import { authorize } from '@/lib/auth/request-actor';
import { requireDatabaseUrl } from '@/lib/db';
import { ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { subscribe } from '@/lib/pg-listen';
import { eventJson } from '../../_lib/event-json';
import { apiRoute, HttpError, otherMethods, parse } from '../../_lib/http';
import { eventTypesParam } from '../../_lib/schemas';

export const dynamic = 'force-dynamic';

const query = z.strictObject({
  after: z.string().max(64).optional(),
  types: eventTypesParam,
});

const PAGE = 500;
/** Polling backs up NOTIFY (a lost notification delays an event by at most this). */
const POLL_MS = 2_000;
/**
 * After a page with events, look again soon (doubling up to POLL_MS): appends NOTIFY only from
 * one transaction in flight at a time (notify_events, migration 20261202020000), so one that
 * committed just after the notifying one sent none of its own.
 */
const FOLLOW_UP_MS = 20;
/** A comment line now and then keeps proxies from closing an idle stream (SSE_HEARTBEAT_MS). */
const heartbeatMs = () => Number(process.env.SSE_HEARTBEAT_MS) || 15_000;

/** Live streams open per caller (token or user) in this process; SSE_MAX_STREAMS_PER_CALLER. */
const openStreams = new Map<string, number>();

function maxStreamsPerCaller(): number {
  const n = Number(process.env.SSE_MAX_STREAMS_PER_CALLER);
  return Number.isInteger(n) && n > 0 ? n : 5;
}

/**
 * Each open stream holds a loop and a share of the database: 100 streams of one caller tripled
 * the latency of everyone's writes. Beyond the cap the caller gets 429 until one closes.
 */
function takeStreamSlot(caller: string): () => void {
  const limit = maxStreamsPerCaller();
  const open = openStreams.get(caller) ?? 0;
  if (open >= limit) {
    throw new HttpError(429, 'rate_limited', `at most ${limit} live streams may be open per caller; close one first`, {
      limit,
    });
  }
  openStreams.set(caller, open + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (openStreams.get(caller) ?? 1) - 1;
    if (left > 0) openStreams.set(caller, left);
    else openStreams.delete(caller);
  };
}

/**
 * The live feed (Server-Sent Events), in the same gap-safe order as GET /api/events. Each event's
 * SSE id is its cursor, so a reconnecting EventSource resumes exactly after the last event it
 * received (Last-Event-ID), and `?after=` starts from a cursor of the paged feed.
 */
export const GET = apiRoute(async (request) => {
  const actor = await authorize(request, 'audit:read');
  const q = parse(query, Object.fromEntries(new URL(request.url).searchParams));
  let cursor = request.headers.get('last-event-id') || q.after || '';
  decodeCursor(cursor); // a bad cursor is a 422 now, not a broken stream later
  const releaseSlot = takeStreamSlot(actor.id);
  const store = ledger().store;
  const encoder = new TextEncoder();

  let wake: (() => void) | null = null;
  let closed = false;
  const nudge = () => wake?.();
  const unsubscribe = subscribe(requireDatabaseUrl(), EVENTS_CHANNEL, logger, nudge);
  const close = () => {
    if (closed) return;
    closed = true;
    releaseSlot();
    unsubscribe();
    nudge();
  };
  request.signal.addEventListener('abort', close);

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(`retry: ${POLL_MS}\n: connected\n\n`));
      let lastWrite = Date.now();
      let followUpMs = POLL_MS;
      try {
        while (!closed) {
          const page = await store.readAll({ after: cursor, limit: PAGE, types: q.types });
          for (const event of page.events) {
            const json = JSON.stringify(eventJson(event));
            controller.enqueue(encoder.encode(`id: ${event.cursor}\nevent: ${event.type}\ndata: ${json}\n\n`));
          }
          cursor = page.next;
          if (page.events.length > 0) {
            lastWrite = Date.now();
            followUpMs = FOLLOW_UP_MS;
          } else {
            followUpMs = Math.min(followUpMs * 2, POLL_MS);
          }
          if (page.events.length === PAGE) continue;
          if (Date.now() - lastWrite >= heartbeatMs()) {
            controller.enqueue(encoder.encode(': keep-alive\n\n'));
            lastWrite = Date.now();
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, followUpMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
      } catch (error) {
        logger.warn({ err: String(error) }, 'event stream ended by an error');
      } finally {
        close();
        try {
          controller.close();
        } catch {
          // Already closed by the client going away.
        }
      }
    },
    cancel() {
      close();
    },
  });

  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
    },
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
