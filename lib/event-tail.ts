import { compareCursors, decodeCursor, encodeCursor, type GlobalCursor } from '@/domain/event-store/cursor';
import type { EventStore, ReadAllResult } from '@/domain/event-store/event-store';
import type { Logger } from './logger';
import { subscribe } from './pg-listen';

type FeedEvent = ReadAllResult['events'][number];

const PAGE = 500;
/** Polling backs up NOTIFY (a lost notification delays an event by at most this). */
const POLL_MS = 2_000;
/**
 * After a page with events, look again soon (doubling up to POLL_MS): appends NOTIFY only from
 * one transaction in flight at a time (notify_events, migration 20261202020000), so one that
 * committed just after the notifying one sent none of its own.
 */
const FOLLOW_UP_MS = 20;
/** Recent events kept in memory, for followers a little behind (a burst, a slow reader). */
export const KEPT = 10_000;

export interface EventTail {
  /**
   * Every page of the feed after `cursor`, until `signal` aborts: from memory once the follower is
   * at or after what the tail keeps, else read through `store` (a new follower replaying history,
   * or one that fell more than KEPT events behind) until a short page says it has caught up. After
   * a page that is not full it waits for new events, at most `idleMs()`, and then yields the next
   * page, empty if nothing came (so the caller can send a heartbeat).
   *
   * Pulled, never pushed: the next page is read only when the caller asks for it, so a follower
   * whose client is slow holds only the page it was last given, and picks up from its cursor
   * (memory, or the database once it is more than KEPT events behind) when it asks again.
   */
  follow(store: EventStore, cursor: string, signal: AbortSignal, idleMs: () => number): AsyncGenerator<FeedPage>;
  release(): void;
}

type FeedPage = { events: FeedEvent[]; next: string };

interface Entry {
  event: FeedEvent;
  at: GlobalCursor;
}

/**
 * The end of the global feed, read once per process for every live follower (each open
 * /api/events/stream response): one LISTEN connection and one reader, whatever the number of
 * followers. Before, each follower polled the database every 2 s and read again on every NOTIFY,
 * so 1,000 idle followers cost 500 queries a second and every append 1,000 reads.
 *
 * Memory holds the gap-safe feed over (from, tail]: everything visible after `from`, in order, as
 * read by one reader, so a follower whose cursor is at or after `from` finds every later event
 * here. A follower further behind (a new one, or one that fell more than KEPT events behind)
 * reads the database itself, as before, until a short page says it has caught up.
 */
class SharedTail {
  private entries: Entry[] = [];
  private from: GlobalCursor | null = null;
  private tail: GlobalCursor | null = null;
  private waiters = new Set<() => void>();
  private nudge: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  followers = 0;

  constructor(
    private readonly store: EventStore,
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly log: Logger,
    private readonly onIdle: () => void,
  ) {}

  handle(): EventTail {
    this.followers++;
    let released = false;
    return {
      follow: (store, cursor, signal, idleMs) => this.follow(store, cursor, signal, idleMs),
      release: () => {
        if (released) return;
        released = true;
        if (--this.followers === 0) this.stop();
      },
    };
  }

  private async *follow(store: EventStore, from: string, signal: AbortSignal, idleMs: () => number) {
    let cursor = from;
    while (!signal.aborted) {
      const memory = this.after(cursor, PAGE);
      const page = memory ?? (await store.readAll({ after: cursor, limit: PAGE }));
      cursor = page.next;
      yield page;
      if (page.events.length === PAGE) continue;
      if (!memory) this.start(cursor);
      // The caller may ask for the next page long after it took this one (a slow client): what
      // came meanwhile is in memory already, and waiting for the next wake would hold it back.
      if (this.tail && compareCursors(this.tail, decodeCursor(cursor)) > 0) continue;
      await this.wait(Math.max(1, idleMs()), signal);
    }
  }

  private after(cursor: string, limit: number): FeedPage | null {
    if (!this.from || !this.tail) return null;
    const at = decodeCursor(cursor);
    if (compareCursors(at, this.from) < 0) return null;
    // The first kept event after `at` (binary search: the entries are in feed order).
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareCursors(this.entries[mid]!.at, at) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const events = this.entries.slice(lo, lo + limit).map((e) => e.event);
    const reached =
      events.length === limit
        ? events.at(-1)!.cursor
        : compareCursors(at, this.tail) > 0
          ? cursor
          : encodeCursor(this.tail);
    return { events, next: reached };
  }

  /** A follower caught up by reading the database to `cursor`: the tail starts there if it has not. */
  private start(cursor: string) {
    if (this.tail) return;
    this.from = this.tail = decodeCursor(cursor);
    this.unsubscribe = subscribe(this.databaseUrl, this.channel, this.log, () => this.nudge?.());
    void this.read();
  }

  private async read() {
    let waitMs = POLL_MS;
    while (this.followers > 0) {
      let full = false;
      try {
        const page = await this.store.readAll({ after: this.tail!, limit: PAGE });
        if (page.events.length > 0) {
          for (const event of page.events) this.entries.push({ event, at: decodeCursor(event.cursor) });
          this.tail = decodeCursor(page.next);
          if (this.entries.length > KEPT) {
            const dropped = this.entries.splice(0, this.entries.length - KEPT);
            this.from = dropped.at(-1)!.at;
          }
          for (const wake of this.waiters) wake();
          waitMs = FOLLOW_UP_MS;
          full = page.events.length === PAGE;
        } else {
          waitMs = Math.min(waitMs * 2, POLL_MS);
        }
      } catch (error) {
        this.log.warn({ err: String(error) }, 'the shared event tail could not read; trying again');
        waitMs = POLL_MS;
      }
      if (full) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.nudge = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.nudge = null;
    }
  }

  /** Resolves when new events are in memory, after `ms`, or when `signal` aborts. */
  private wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done);
    });
  }

  private stop() {
    this.unsubscribe?.();
    this.nudge?.();
    for (const wake of this.waiters) wake();
    this.onIdle();
  }
}

const tails = new Map<string, SharedTail>();

/** This process's shared tail of the feed in `databaseUrl` (one per database and channel). */
export function followEvents(store: EventStore, databaseUrl: string, channel: string, log: Logger): EventTail {
  const key = `${databaseUrl}\n${channel}`;
  let tail = tails.get(key);
  if (!tail) {
    const created = new SharedTail(store, databaseUrl, channel, log, () => {
      if (tails.get(key) === created) tails.delete(key);
    });
    tail = created;
    tails.set(key, tail);
  }
  return tail.handle();
}
