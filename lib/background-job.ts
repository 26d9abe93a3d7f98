import type pg from 'pg';
import { holdAdvisoryLock } from './advisory-locks';

/*
 * What the admin page's background jobs (projections/rebuild-job.ts, lib/integrity/verify-job.ts)
 * share: a per-process slot that remembers the last job, and a session advisory lock that makes
 * the job one at a time across every app instance.
 */

export interface JobSlot<J> {
  /** Claimed synchronously before the lock is even tried, so two clicks in one process cannot race. */
  claimed: boolean;
  job: J | null;
  promise: Promise<J> | null;
}

// Next.js may load a module more than once (dev reloads, separate bundles for pages and actions):
// the slots live on globalThis, per job kind and database, like lib/db.ts's client.
const globalForJobs = globalThis as unknown as { __ledgerJobSlots?: Map<string, JobSlot<unknown>> };

export function jobSlot<J>(kind: string, databaseUrl: string): JobSlot<J> {
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
 * when one is running here or anywhere else. The caller ends `lock` and clears `slot.claimed`
 * when the job is done.
 */
export async function claimJob<J>(
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
