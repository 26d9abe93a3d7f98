import {
  backgroundJob,
  errorMessage,
  type JobStartedBy,
  type JobStatus,
  type StartJobResult,
} from '@/lib/background-job';
import { requireDatabaseUrl } from '@/lib/db';
import { logger } from '@/lib/logger';
import { createPgPool, type Queryable } from '@/projections/pg';
import { trustedSealKeys } from './seal-key';
import { recordVerification, type VerifyProgress, type VerifyReport, verifyLedger } from './verify';

/**
 * "Verify now" on /admin: a verification in the background of this server process, one at a time
 * across every app instance, like a projection rebuild (lib/background-job.ts: a session advisory
 * lock on a connection of its own, released when the run ends or its process dies). The
 * outcome is recorded in integrity_verifications (what the badge shows); progress lives here.
 */

export const VERIFY_LOCK_NAME = 'ledger-verify';

export type VerifyStartedBy = JobStartedBy;

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

/** `runningElsewhere`: another app instance is running a "Verify now" (the CLI runs without the lock: it only reads). */
export type VerifyJobStatus = JobStatus<VerifyJob>;

const log = logger.child({ component: 'verify-job' });
const verifyJobs = backgroundJob<VerifyJob, VerifyProgress>({ kind: 'verify', lockName: VERIFY_LOCK_NAME, log });

export type StartVerifyResult = StartJobResult<VerifyJob>;

/** Starts a verification and returns at once; refuses while one runs here or in another instance. */
export function startVerification(startedBy: VerifyStartedBy): Promise<StartVerifyResult> {
  const databaseUrl = requireDatabaseUrl();
  return verifyJobs.start(databaseUrl, startedBy, (job, jobLog) => run(job, databaseUrl, jobLog));
}

async function run(job: VerifyJob, databaseUrl: string, jobLog: typeof log): Promise<VerifyJob> {
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
  }
  return finished;
}

/** The verification this process is running, if any: resolves with its final state (never rejects). */
export function currentVerification(): Promise<VerifyJob> | null {
  return verifyJobs.current(requireDatabaseUrl());
}

export function verificationStatus(q?: Queryable): Promise<VerifyJobStatus> {
  return verifyJobs.status(requireDatabaseUrl(), q);
}
