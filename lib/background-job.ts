import pg from 'pg';
import type { Queryable } from '@/projections/pg';

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

/**
 * Takes the session advisory lock `hashtextextended(name, 0)` on a connection of its own and
 * returns that connection — ending it releases the lock, and so does the process dying — or null
 * when someone else holds it. `onLost`: the connection failed later (it must not crash the process).
 */
export async function holdAdvisoryLock(
  databaseUrl: string,
  name: string,
  onLost: (error: Error) => void,
): Promise<pg.Client | null> {
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: `lock:${name}` });
  lock.on('error', onLost);
  try {
    await lock.connect();
    const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [
      name,
    ]);
    if (rows[0]?.ok) return lock;
  } catch (error) {
    await lock.end().catch(() => {});
    throw error;
  }
  await lock.end().catch(() => {});
  return null;
}

/** Is the session advisory lock keyed `hashtextextended(name, 0)` held by anyone? Read from pg_locks. */
export async function advisoryLockHeld(q: Queryable, name: string): Promise<boolean> {
  const { rows } = await q.query<{ held: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks l
        CROSS JOIN LATERAL (SELECT hashtextextended($1, 0) AS key) k
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = ((k.key >> 32) & 4294967295)::oid
          AND l.objid = (k.key & 4294967295)::oid
     ) AS held`,
    [name],
  );
  return rows[0]?.held ?? false;
}
