import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { advisoryLockHeld } from '@/lib/advisory-locks';
import { claimJob, jobSlot } from '@/lib/background-job';
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

const slotFor = (databaseUrl: string) => jobSlot<RebuildJob>('rebuild', databaseUrl);

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
  // A connection lost mid-rebuild must not crash the server; the rebuild's own queries fail instead.
  const claimed = await claimJob<RebuildJob>('rebuild', databaseUrl, REBUILD_LOCK_NAME, (error) =>
    log.warn({ err: errorMessage(error) }, 'rebuild lock connection lost'),
  );
  if (!claimed) return { started: false, reason: 'already-running' };
  const { slot, lock } = claimed;

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
export function rebuildLockHeld(q: Queryable): Promise<boolean> {
  return advisoryLockHeld(q, REBUILD_LOCK_NAME);
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
