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
/**
 * What one stream holds for a client that reads slowly or not at all: it takes another page only
 * while less than this is queued, so at most this plus one page (lib/event-tail.ts, 500 events).
 */
const QUEUED_BYTES = 64 * 1024;

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

  // Unfiltered pages, so the cursor moves past events of other types too and the stream can join
  // the tail; the types are applied here. Created now, read only from pull() below.
  let lastWrite = Date.now();
  const idleMs = () => heartbeatMs() - (Date.now() - lastWrite);
  const pages = tail.follow(store, cursor, closing.signal, idleMs);

  // Backpressure: the stream takes the next page (from the tail's memory or the database) only
  // when the client has taken enough of what is queued (pull() runs only while the queue holds
  // less than QUEUED_BYTES). Before, start() enqueued every page as fast as it could read them,
  // so a client replaying from the start of the feed, or one that stopped reading, made this
  // process hold the whole feed in memory for that one stream.
  //
  // A client that falls behind is neither dropped nor pushed to: it is caught up from its cursor,
  // which is the id of the last event it was sent, once it reads again (from memory while the
  // tail still keeps that point, else from the database in pages). Closing the stream instead
  // would also lose nothing (the EventSource resumes after Last-Event-ID), but a client slower
  // than the appends would be cut off, reconnect and replay again in a loop, never catching up.
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n: connected\n\n`));
      },
      async pull(controller) {
        const end = () => {
          close();
          try {
            controller.close();
          } catch {
            // Already closed by the client going away.
          }
        };
        try {
          // Until something is queued: the client's read that asked for this pull is answered
          // only by an enqueue, and no new pull comes without one, so returning with nothing (a
          // page of other types only, an idle page before the heartbeat is due) would stall it.
          for (let sent = false; !sent; ) {
            const next = await pages.next();
            if (next.done) return end();
            for (const event of next.value.events) {
              if (types && !types.has(event.type)) continue;
              const json = JSON.stringify(eventJson(event));
              controller.enqueue(encoder.encode(`id: ${event.cursor}\nevent: ${event.type}\ndata: ${json}\n\n`));
              sent = true;
            }
            if (!sent && Date.now() - lastWrite >= heartbeatMs()) {
              controller.enqueue(encoder.encode(': keep-alive\n\n'));
              sent = true;
            }
            if (sent) lastWrite = Date.now();
          }
        } catch (error) {
          logger.warn({ err: String(error) }, 'event stream ended by an error');
          end();
        }
      },
      cancel() {
        close(); // ends a follow() waiting for events; one paused at its last page is simply dropped
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: QUEUED_BYTES }),
  );

  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
    },
  });
});

export const { POST, PUT, PATCH, DELETE, OPTIONS } = otherMethods('GET');
