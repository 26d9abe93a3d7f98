import { z } from 'zod';
import { decodeCursor } from '@/domain/event-store/cursor';
import { EVENTS_CHANNEL } from '@/domain/event-store/postgres-event-store';
import { authorize } from '@/lib/auth/request-actor';
import { requireDatabaseUrl } from '@/lib/db';
import { followEvents } from '@/lib/event-tail';
import { ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { eventJson } from '../../_lib/event-json';
import { apiRoute, HttpError, otherMethods, parse } from '../../_lib/http';
import { eventTypesParam } from '../../_lib/schemas';

export const dynamic = 'force-dynamic';

const query = z.strictObject({
  after: z.string().max(64).optional(),
  types: eventTypesParam,
});

/** Sent as the EventSource's `retry`: how soon a dropped browser reconnects. */
const RETRY_MS = 2_000;
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
  const cursor = request.headers.get('last-event-id') || q.after || '';
  decodeCursor(cursor); // a bad cursor is a 422 now, not a broken stream later
  const releaseSlot = takeStreamSlot(actor.id);
  const store = ledger().store;
  const types = q.types && q.types.length > 0 ? new Set<string>(q.types) : null;
  const encoder = new TextEncoder();

  // Every open stream shares this process's tail of the feed (lib/event-tail.ts): one LISTEN and
  // one reader for all of them. A stream reads the database itself only while it is behind what
  // the tail keeps in memory (a new follower replaying history, or one that fell far behind).
  const tail = followEvents(store, requireDatabaseUrl(), EVENTS_CHANNEL, logger);
  const closing = new AbortController();
  const close = () => {
    if (closing.signal.aborted) return;
    releaseSlot();
    tail.release();
    closing.abort();
  };
  request.signal.addEventListener('abort', close);

  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n: connected\n\n`));
      let lastWrite = Date.now();
      try {
        // Unfiltered pages, so the cursor moves past events of other types too and the stream can
        // join the tail; the types are applied here.
        const idleMs = () => heartbeatMs() - (Date.now() - lastWrite);
        for await (const page of tail.follow(store, cursor, closing.signal, idleMs)) {
          for (const event of page.events) {
            if (types && !types.has(event.type)) continue;
            const json = JSON.stringify(eventJson(event));
            controller.enqueue(encoder.encode(`id: ${event.cursor}\nevent: ${event.type}\ndata: ${json}\n\n`));
            lastWrite = Date.now();
          }
          if (Date.now() - lastWrite >= heartbeatMs()) {
            controller.enqueue(encoder.encode(': keep-alive\n\n'));
            lastWrite = Date.now();
          }
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
