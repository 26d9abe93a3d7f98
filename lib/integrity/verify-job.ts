import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { advisoryLockHeld } from '@/lib/advisory-locks';
import { claimJob, jobSlot } from '@/lib/background-job';
import { requireDatabaseUrl } from '@/lib/db';
import { logger } from '@/lib/logger';
import { createPgPool, type Queryable } from '@/projections/pg';
import { trustedSealKeys } from './seal-key';
import { recordVerification, type VerifyProgress, type VerifyReport, verifyLedger } from './verify';

/**
 * "Verify now" on /admin: a verification in the background of this server process, one at a time
 * across every app instance — the pattern of projections/rebuild-job.ts. The guard is a session
 * advisory lock on a connection of its own, released when the run ends or its process dies. The
 * outcome is recorded in integrity_verifications (what the badge shows); progress lives here.
 */

export const VERIFY_LOCK_NAME = 'ledger-verify';

export interface VerifyStartedBy {
  id: string;
  /** Shown on the admin page; never logged. */
  name: string;
}

interface JobBase {
  id: string;
  startedBy: VerifyStartedBy;
  startedAt: string;
  progress: VerifyProgress | null;
}

export type VerifyJob =
  | (JobBase & { state: 'running' })
  | (JobBase & { state: 'done'; finishedAt: string; report: VerifyReport })
  | (JobBase & { state: 'failed'; finishedAt: string; error: string });

export interface VerifyJobStatus {
  job: VerifyJob | null;
  /** Another app instance is running a "Verify now" (the CLI runs without the lock: it only reads). */
  runningElsewhere: boolean;
}

const slotFor = (databaseUrl: string) => jobSlot<VerifyJob>('verify', databaseUrl);

const log = logger.child({ component: 'verify-job' });
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export type StartVerifyResult = { started: true; job: VerifyJob } | { started: false; reason: 'already-running' };

/** Starts a verification and returns at once; refuses while one runs here or in another instance. */
export async function startVerification(startedBy: VerifyStartedBy): Promise<StartVerifyResult> {
  const databaseUrl = requireDatabaseUrl();
  const claimed = await claimJob<VerifyJob>('verify', databaseUrl, VERIFY_LOCK_NAME, (error) =>
    log.warn({ err: errorMessage(error) }, 'verify lock connection lost'),
  );
  if (!claimed) return { started: false, reason: 'already-running' };
  const { slot, lock } = claimed;

  const job: VerifyJob = {
    id: randomUUID(),
    state: 'running',
    startedBy: { id: startedBy.id, name: startedBy.name },
    startedAt: new Date().toISOString(),
    progress: null,
  };
  slot.job = job;
  slot.promise = run(job, databaseUrl, lock).finally(() => {
    slot.claimed = false;
  });
  return { started: true, job: { ...job } };
}

async function run(job: VerifyJob, databaseUrl: string, lock: pg.Client): Promise<VerifyJob> {
  const jobLog = log.child({ jobId: job.id, actorId: job.startedBy.id });
  jobLog.info('verification started');
  const pool = createPgPool(databaseUrl, { max: 2, applicationName: 'verify-job' });
  const startedAt = new Date(job.startedAt);
  let finished: VerifyJob;
  try {
    const report = await verifyLedger(pool, {
      trusted: trustedSealKeys(),
      onProgress: (progress) => {
        job.progress = { ...progress };
      },
    });
    await recordVerification(pool, { source: 'admin', startedBy: job.startedBy.id, startedAt, report });
    finished = { ...job, state: 'done', finishedAt: new Date().toISOString(), report };
    jobLog.info({ ok: report.ok, problems: report.problems.length, ...report.summary }, 'verification finished');
  } catch (error) {
    const message = errorMessage(error);
    await recordVerification(pool, { source: 'admin', startedBy: job.startedBy.id, startedAt, error: message }).catch(
      () => {},
    );
    finished = { ...job, state: 'failed', finishedAt: new Date().toISOString(), error: message };
    jobLog.error({ err: message }, 'verification failed');
  } finally {
    await pool.end().catch(() => {});
    await lock.end().catch(() => {});
  }
  const slot = slotFor(databaseUrl);
  if (slot.job?.id === job.id) slot.job = finished;
  return finished;
}

/** The verification this process is running, if any: resolves with its final state (never rejects). */
export function currentVerification(): Promise<VerifyJob> | null {
  const slot = slotFor(requireDatabaseUrl());
  return slot.claimed ? slot.promise : null;
}

export async function verificationStatus(q?: Queryable): Promise<VerifyJobStatus> {
  const slot = slotFor(requireDatabaseUrl());
  const job = slot.job ? structuredClone(slot.job) : null;
  const runningElsewhere = q && !slot.claimed ? await advisoryLockHeld(q, VERIFY_LOCK_NAME).catch(() => false) : false;
  return { job, runningElsewhere };
}
