import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '@/projections/pg';
import { advisoryLockHeld, holdAdvisoryLock } from './advisory-locks';
import type { Logger } from './logger';

/*
 * What the admin page's background jobs (projections/rebuild-job.ts, lib/integrity/verify-job.ts)
 * share: a per-process slot that remembers the last job, a session advisory lock that makes the
 * job one at a time across every app instance (held on a connection of its own, so it is released
 * the moment the job ends or its process dies), the job record its progress is written into, and
 * the status the admin page reads.
 */

interface JobSlot<J> {
  /** Claimed synchronously before the lock is even tried, so two clicks in one process cannot race. */
  claimed: boolean;
  job: J | null;
  promise: Promise<J> | null;
}

// Next.js may load a module more than once (dev reloads, separate bundles for pages and actions):
// the slots live on globalThis, per job kind and database, like lib/db.ts's client.
const globalForJobs = globalThis as unknown as { __ledgerJobSlots?: Map<string, JobSlot<unknown>> };

function jobSlot<J>(kind: string, databaseUrl: string): JobSlot<J> {
  globalForJobs.__ledgerJobSlots ??= new Map();
  const key = `${kind} ${databaseUrl}`;
  let slot = globalForJobs.__ledgerJobSlots.get(key);
  if (!slot) {
    slot = { claimed: false, job: null, promise: null };
    globalForJobs.__ledgerJobSlots.set(key, slot);
  }
  return slot as JobSlot<J>;
}

/**
 * Claims this process's slot and the cross-instance lock for a new job of `kind`, or returns null
 * when one is running here or anywhere else.
 */
async function claimJob<J>(
  kind: string,
  databaseUrl: string,
  lockName: string,
  onLost: (error: Error) => void,
): Promise<{ slot: JobSlot<J>; lock: pg.Client } | null> {
  const slot = jobSlot<J>(kind, databaseUrl);
  if (slot.claimed) return null;
  slot.claimed = true;
  try {
    const lock = await holdAdvisoryLock(databaseUrl, lockName, onLost);
    if (lock) return { slot, lock };
  } catch (error) {
    slot.claimed = false;
    throw error;
  }
  slot.claimed = false;
  return null;
}

export interface JobStartedBy {
  id: string;
  /** Shown on the admin page; never logged. */
  name: string;
}

/** A job while it runs; its finished states (`done`, `failed`) are the job kind's own. */
export interface RunningJob<P> {
  id: string;
  state: 'running';
  startedBy: JobStartedBy;
  startedAt: string;
  /** Written by the job as it goes; read by the admin page. */
  progress: P | null;
}

export type StartJobResult<J> = { started: true; job: J } | { started: false; reason: 'already-running' };

export interface JobStatus<J> {
  /** The last job of this kind this process started (running or finished), if any. */
  job: J | null;
  /** Another process (another app instance, or this one before a restart) holds the job's lock. */
  runningElsewhere: boolean;
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One kind of background job. `J` is every state of its record; its running state must be a
 * `RunningJob<P>` (checked by the `never` below), which is what `start` creates.
 */
export function backgroundJob<J extends { id: string }, P>(
  options: {
    kind: string;
    lockName: string;
    log: Logger;
  } & (RunningJob<P> extends J ? unknown : { runningJobIsNotAJob: never }),
) {
  const slotFor = (databaseUrl: string) => jobSlot<J>(options.kind, databaseUrl);
  return {
    /**
     * Starts `run` in the background of this process and returns at once; refuses (without
     * waiting) while a job of this kind runs here or in any other process on the same database.
     * `run` ends in the job's finished state and never rejects; the lock is released after it.
     */
    async start(
      databaseUrl: string,
      startedBy: JobStartedBy,
      run: (job: RunningJob<P>, log: Logger) => Promise<J>,
    ): Promise<StartJobResult<J>> {
      // A connection lost mid-job must not crash the server; the job's own queries fail instead.
      const claimed = await claimJob<J>(options.kind, databaseUrl, options.lockName, (error) =>
        options.log.warn({ err: errorMessage(error) }, `${options.kind} lock connection lost`),
      );
      if (!claimed) return { started: false, reason: 'already-running' };
      const { slot, lock } = claimed;
      const job: RunningJob<P> = {
        id: randomUUID(),
        state: 'running',
        startedBy: { id: startedBy.id, name: startedBy.name },
        startedAt: new Date().toISOString(),
        progress: null,
      };
      // RunningJob<P> is one of J's states (the options' type says so).
      const record = job as unknown as J;
      slot.job = record;
      const jobLog = options.log.child({ jobId: job.id, actorId: startedBy.id });
      slot.promise = (async () => {
        let finished: J;
        try {
          finished = await run(job, jobLog);
        } finally {
          // Ending the session releases the advisory lock.
          await lock.end().catch(() => {});
        }
        if (slot.job?.id === job.id) slot.job = finished;
        return finished;
      })().finally(() => {
        slot.claimed = false;
      });
      return { started: true, job: { ...record } };
    },

    /** The job this process is running, if any: resolves with its final state (never rejects). */
    current(databaseUrl: string): Promise<J> | null {
      const slot = slotFor(databaseUrl);
      return slot.claimed ? slot.promise : null;
    },

    /**
     * This process's last job, and whether one is running in another process. `q` answers the
     * lock question; without it (or when Postgres cannot be asked) `runningElsewhere` is false.
     */
    async status(databaseUrl: string, q?: Queryable): Promise<JobStatus<J>> {
      const slot = slotFor(databaseUrl);
      const job = slot.job ? structuredClone(slot.job) : null;
      const runningElsewhere =
        q && !slot.claimed ? await advisoryLockHeld(q, options.lockName).catch(() => false) : false;
      return { job, runningElsewhere };
    },
  };
}
