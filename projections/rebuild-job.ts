import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { requireDatabaseUrl } from '@/lib/db';
import { logger } from '@/lib/logger';
import type { Queryable } from './pg';
import { type RebuildProgress, type RebuildReport, rebuildProjections } from './rebuild';
import { createSearchIndex, searchConfigFromEnv } from './search/factory';

/**
 * A projection rebuild started from the admin page: it runs in the background of this server
 * process (it can take minutes), one at a time across every app instance. The guard is a
 * Postgres session advisory lock held on a connection of its own for as long as the rebuild
 * runs, so it is released the moment the rebuild ends or its process or connection dies.
 * Progress lives in this process only; other instances see that the lock is taken.
 */

/** Advisory lock key (hashed like the projector's own locks). */
export const REBUILD_LOCK_NAME = 'projections-rebuild';

export interface RebuildStartedBy {
  id: string;
  /** Shown on the admin page; never logged. */
  name: string;
}

interface JobBase {
  id: string;
  startedBy: RebuildStartedBy;
  startedAt: string;
}

export type RebuildJob =
  | (JobBase & { state: 'running'; progress: RebuildProgress | null })
  | (JobBase & { state: 'done'; progress: RebuildProgress | null; finishedAt: string; reports: RebuildReport[] })
  | (JobBase & { state: 'failed'; progress: RebuildProgress | null; finishedAt: string; error: string });

export interface RebuildJobStatus {
  /** The last rebuild this process started (running or finished), if any. */
  job: RebuildJob | null;
  /** Another process (another app instance, or this one before a restart) holds the rebuild lock. */
  runningElsewhere: boolean;
}

export type StartRebuildResult = { started: true; job: RebuildJob } | { started: false; reason: 'already-running' };

interface Slot {
  /** Claimed synchronously before the lock is even tried, so two clicks in one process cannot race. */
  claimed: boolean;
  job: RebuildJob | null;
  promise: Promise<RebuildJob> | null;
}

// Next.js may load this module more than once (dev reloads, separate bundles for pages and
// actions): the state lives on globalThis, per database, like lib/db.ts's client.
const globalForJobs = globalThis as unknown as { __ledgerRebuildJobs?: Map<string, Slot> };

function slotFor(databaseUrl: string): Slot {
  globalForJobs.__ledgerRebuildJobs ??= new Map();
  let slot = globalForJobs.__ledgerRebuildJobs.get(databaseUrl);
  if (!slot) {
    slot = { claimed: false, job: null, promise: null };
    globalForJobs.__ledgerRebuildJobs.set(databaseUrl, slot);
  }
  return slot;
}

const log = logger.child({ component: 'rebuild-job' });

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface StartRebuildOptions {
  /** Passed on to rebuildProjections (tests use small batches). */
  batchSize?: number;
}

/**
 * Starts a rebuild of every projection in the background and returns at once. Refuses (without
 * waiting) when a rebuild is running here or in any other process on the same database.
 */
export async function startRebuild(
  startedBy: RebuildStartedBy,
  options: StartRebuildOptions = {},
): Promise<StartRebuildResult> {
  const databaseUrl = requireDatabaseUrl();
  const slot = slotFor(databaseUrl);
  if (slot.claimed) return { started: false, reason: 'already-running' };
  slot.claimed = true;

  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'projections-rebuild-job' });
  // A connection lost mid-rebuild must not crash the server; the rebuild's own queries fail instead.
  lock.on('error', (error) => log.warn({ err: errorMessage(error) }, 'rebuild lock connection lost'));
  try {
    await lock.connect();
    const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [
      REBUILD_LOCK_NAME,
    ]);
    if (!rows[0]?.ok) {
      slot.claimed = false;
      await lock.end().catch(() => {});
      return { started: false, reason: 'already-running' };
    }
  } catch (error) {
    slot.claimed = false;
    await lock.end().catch(() => {});
    throw error;
  }

  const job: RebuildJob = {
    id: randomUUID(),
    state: 'running',
    startedBy: { id: startedBy.id, name: startedBy.name },
    startedAt: new Date().toISOString(),
    progress: null,
  };
  slot.job = job;
  const jobLog = log.child({ jobId: job.id, actorId: startedBy.id });
  jobLog.info('projection rebuild started');
  slot.promise = run(job, databaseUrl, lock, jobLog, options).finally(() => {
    slot.claimed = false;
  });
  return { started: true, job: { ...job } };
}

async function run(
  job: RebuildJob,
  databaseUrl: string,
  lock: pg.Client,
  jobLog: typeof log,
  options: StartRebuildOptions,
): Promise<RebuildJob> {
  const started = Date.now();
  let finished: RebuildJob;
  let searchIndex: ReturnType<typeof createSearchIndex> | null = null;
  try {
    searchIndex = createSearchIndex(searchConfigFromEnv('write'));
    const reports = await rebuildProjections({
      databaseUrl,
      searchIndex,
      batchSize: options.batchSize,
      log: jobLog,
      onProgress: (progress) => {
        job.progress = { ...progress };
      },
    });
    finished = { ...job, state: 'done', finishedAt: new Date().toISOString(), reports };
    jobLog.info(
      {
        ms: Date.now() - started,
        reports: reports.map((r) => ({ projection: r.projection, events: r.events, documents: r.documents })),
      },
      'projection rebuild finished',
    );
  } catch (error) {
    finished = { ...job, state: 'failed', finishedAt: new Date().toISOString(), error: errorMessage(error) };
    jobLog.error(
      {
        ms: Date.now() - started,
        err: error instanceof Error ? { message: error.message, stack: error.stack } : error,
      },
      'projection rebuild failed',
    );
  } finally {
    await searchIndex?.close().catch(() => {});
    // Ending the session releases the advisory lock.
    await lock.end().catch(() => {});
  }
  const slot = slotFor(databaseUrl);
  if (slot.job?.id === job.id) slot.job = finished;
  return finished;
}

/** The rebuild this process is running, if any: resolves with its final state (never rejects). */
export function currentRebuild(): Promise<RebuildJob> | null {
  const slot = slotFor(requireDatabaseUrl());
  return slot.claimed ? slot.promise : null;
}

/** Is the rebuild lock held by anyone (this process included)? Read from pg_locks. */
export async function rebuildLockHeld(q: Queryable): Promise<boolean> {
  const { rows } = await q.query<{ held: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks l
        CROSS JOIN LATERAL (SELECT hashtextextended($1, 0) AS key) k
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ((k.key >> 32) & 4294967295)::oid
          AND l.objid = (k.key & 4294967295)::oid
     ) AS held`,
    [REBUILD_LOCK_NAME],
  );
  return rows[0]?.held ?? false;
}

/**
 * This process's last rebuild, and whether one is running in another process. `q` answers the
 * lock question; without it (or when Postgres cannot be asked) `runningElsewhere` is false.
 */
export async function rebuildStatus(q?: Queryable): Promise<RebuildJobStatus> {
  const slot = slotFor(requireDatabaseUrl());
  const job = slot.job ? structuredClone(slot.job) : null;
  let runningElsewhere = false;
  if (q && !slot.claimed) {
    runningElsewhere = await rebuildLockHeld(q).catch(() => false);
  }
  return { job, runningElsewhere };
}
