import { after } from 'next/server';
import type { Actor } from '@/domain/messages';
import { type Db, prisma } from './db';
import { logger } from './logger';
import { onShutdown } from './shutdown';

/**
 * The access trail: who looked at or exported what (audit pages, exports, timeline views), kept
 * in the append-only `access_log` table (the database refuses UPDATE, DELETE and TRUNCATE).
 *
 * Recording must not slow the page it records: `record` only queues the entry; a batch is written
 * every `flushMs` (or at once when `maxBatch` are waiting) in one INSERT. A clean shutdown loses
 * none: the process-wide log registers `drain` as a shutdown hook (lib/shutdown.ts), which the
 * web server of `npm start` runs after its last request (scripts/web-server.ts; its custom server
 * is not `next start`, whose own shutdown would only wait for `after()` work), and `trackAccess`
 * also hands each write to `after()`. Other processes call `flush()` themselves.
 * scripts/web-server.int.spec.ts proves it: with the timer at a minute, SIGTERM still writes all.
 */

export type AccessAction = 'audit.page' | 'audit.export' | 'timeline.view' | 'access.page';

export interface AccessEntry {
  actor: Actor;
  action: AccessAction;
  addressId?: string;
  /** What was asked for (filter terms, format, versions); never credentials. */
  filter: Record<string, unknown>;
  rowCount: number;
  requestId?: string;
  accessedAt?: Date;
}

interface Queued {
  entry: AccessEntry & { accessedAt: Date };
  done: () => void;
}

const MAX_ATTEMPTS = 5;

export function createAccessLog(db: Db, options: { flushMs?: number; maxBatch?: number } = {}) {
  const flushMs = options.flushMs ?? (Number(process.env.ACCESS_LOG_FLUSH_MS) || 200);
  const maxBatch = options.maxBatch ?? 200;
  let queue: Queued[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  let failures = 0;
  /** Set by `drain`: from then on every entry is written at once (the process is stopping). */
  let draining = false;
  const log = logger.child({ component: 'access-log' });

  function schedule(delay: number) {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, delay);
    // A CLI or a test must not be kept alive by the timer alone; flush() is how they finish.
    timer.unref();
  }

  /** True when the batch is done with (written or given up); false when it is queued again. */
  async function writeBatch(): Promise<boolean> {
    const batch = queue.splice(0, maxBatch);
    if (batch.length === 0) return true;
    try {
      await db.accessLog.createMany({
        data: batch.map(({ entry }) => ({
          accessedAt: entry.accessedAt,
          actorId: entry.actor.id,
          actorName: entry.actor.name,
          actorRole: entry.actor.role,
          action: entry.action,
          addressId: entry.addressId ?? null,
          filter: entry.filter as object,
          rowCount: entry.rowCount,
          requestId: entry.requestId ?? null,
        })),
      });
      failures = 0;
      for (const q of batch) q.done();
      return true;
    } catch (error) {
      failures += 1;
      if (failures >= MAX_ATTEMPTS) {
        // Keep the process able to stop: after repeated failures the batch is given up, loudly.
        log.error({ err: error, lost: batch.length }, 'access log entries could not be written; given up');
        failures = 0;
        for (const q of batch) q.done();
        return true;
      }
      log.warn({ err: error, pending: batch.length, attempt: failures }, 'access log write failed; retrying');
      queue = [...batch, ...queue];
      schedule(flushMs * 2 ** failures);
      return false;
    }
  }

  /** Writes everything queued so far (also what arrives while it writes), one batch at a time. */
  function flush(): Promise<void> {
    writing = writing.then(async () => {
      while (queue.length > 0) {
        if (!(await writeBatch())) break;
      }
    });
    return writing;
  }

  return {
    /** Queues an entry; the promise settles once it is written (or given up after retries). */
    record(entry: AccessEntry): Promise<void> {
      return new Promise<void>((done) => {
        queue.push({ entry: { ...entry, accessedAt: entry.accessedAt ?? new Date() }, done });
        if (draining || queue.length >= maxBatch) void flush();
        else schedule(flushMs);
      });
    },
    flush,
    /** For shutdown: writes what is queued, and whatever is recorded later, without waiting. */
    drain(): Promise<void> {
      draining = true;
      return flush();
    },
    /** Entries queued and not yet written. */
    pending: () => queue.length,
  };
}

export type AccessLog = ReturnType<typeof createAccessLog>;

const logs = new WeakMap<Db, AccessLog>();

/** The process-wide access log on DATABASE_URL. */
export function accessLog(): AccessLog {
  const db = prisma();
  let l = logs.get(db);
  if (!l) {
    l = createAccessLog(db);
    logs.set(db, l);
    onShutdown(l.drain);
  }
  return l;
}

/**
 * Records an access from a page or route handler without waiting for the write. An entry known
 * only later (an export's row count, once its stream ends) is passed as a promise: it is still
 * registered with `after()` during the request, so shutdown waits for it too.
 */
export function trackAccess(entry: AccessEntry | Promise<AccessEntry>): void {
  const log = accessLog();
  const written = Promise.resolve(entry).then((e) => log.record(e));
  try {
    after(() => written);
  } catch {
    // Outside a Next.js request (integration tests call handlers directly) there is no `after`;
    // the batch timer still writes the entry, and tests call accessLog().flush().
  }
}
