import { advisoryLockHeld } from '@/lib/advisory-locks';
import {
  backgroundJob,
  errorMessage,
  type JobStartedBy,
  type JobStatus,
  type StartJobResult,
} from '@/lib/background-job';
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

export type RebuildStartedBy = JobStartedBy;

interface JobBase {
  id: string;
  startedBy: RebuildStartedBy;
  startedAt: string;
}

export type RebuildJob =
  | (JobBase & { state: 'running'; progress: RebuildProgress | null })
  | (JobBase & { state: 'done'; progress: RebuildProgress | null; finishedAt: string; reports: RebuildReport[] })
  | (JobBase & { state: 'failed'; progress: RebuildProgress | null; finishedAt: string; error: string });

export type RebuildJobStatus = JobStatus<RebuildJob>;

export type StartRebuildResult = StartJobResult<RebuildJob>;

const log = logger.child({ component: 'rebuild-job' });
const rebuildJobs = backgroundJob<RebuildJob, RebuildProgress>({ kind: 'rebuild', lockName: REBUILD_LOCK_NAME, log });

export interface StartRebuildOptions {
  /** Passed on to rebuildProjections (tests use small batches). */
  batchSize?: number;
}

/**
 * Starts a rebuild of every projection in the background and returns at once. Refuses (without
 * waiting) when a rebuild is running here or in any other process on the same database.
 */
export function startRebuild(
  startedBy: RebuildStartedBy,
  options: StartRebuildOptions = {},
): Promise<StartRebuildResult> {
  const databaseUrl = requireDatabaseUrl();
  return rebuildJobs.start(databaseUrl, startedBy, (job, jobLog) => {
    jobLog.info('projection rebuild started');
    return run(job, databaseUrl, jobLog, options);
  });
}

async function run(
  job: RebuildJob,
  databaseUrl: string,
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
  }
  return finished;
}

/** The rebuild this process is running, if any: resolves with its final state (never rejects). */
export function currentRebuild(): Promise<RebuildJob> | null {
  return rebuildJobs.current(requireDatabaseUrl());
}

/** Is the rebuild lock held by anyone (this process included)? Read from pg_locks. */
export function rebuildLockHeld(q: Queryable): Promise<boolean> {
  return advisoryLockHeld(q, REBUILD_LOCK_NAME);
}

/** This process's last rebuild, and whether one is running in another process (see backgroundJob). */
export function rebuildStatus(q?: Queryable): Promise<RebuildJobStatus> {
  return rebuildJobs.status(requireDatabaseUrl(), q);
}
