import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { EVENTS_CHANNEL } from '@/domain/event-store/postgres-event-store';
import { createPrisma } from '@/lib/db';
import type { SealKey } from '@/lib/integrity/seal-key';
import { type Sealer, startSealer } from '@/lib/integrity/sealer';
import { createLedger } from '@/lib/ledger';
import { type Logger, logger as rootLogger } from '@/lib/logger';
import { listen } from '@/lib/pg-listen';
import { addressViewProjection, type Projection, type ProjectionHooks, searchProjection } from './address-projections';
import { PROJECTION_NAMES, type ProjectionName } from './checkpoints';
import { createPgPool } from './pg';
import { ProjectionRunner } from './runner';
import type { SearchIndex } from './search/search-index';

export interface ProjectorOptions {
  databaseUrl: string;
  /** The search backend (the caller owns and closes it); without one address_search is not run. */
  searchIndex?: SearchIndex | null;
  /** Which projections to run (default: all that can run). */
  projections?: readonly ProjectionName[];
  batchSize?: number;
  /** Batches grow up to this while behind (runner.ts RunnerOptions.maxBatchSize); default: batchSize if that is given, else DEFAULTS.maxBatchSize. */
  maxBatchSize?: number;
  pollMs?: number;
  lockRetryMs?: number;
  heartbeatMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Completeness checks (projections/completeness.ts): how often, and how often a full pass. */
  completeness?: { checkMs: number; fullEveryMs: number };
  /** false: no completeness digest (only to measure what it costs: bench/projection-digest.ts). */
  digest?: boolean;
  /** How many documents a runner writes before it settles its projection once caught up (runner.ts). */
  settleAfterDocuments?: number;
  log?: Logger;
  workerId?: string;
  hooks?: ProjectionHooks;
  /** Seal the global order with this key every `intervalMs` (lib/integrity/sealer.ts); none: no sealing. */
  sealer?: { key: SealKey; intervalMs: number };
}

export interface Projector {
  workerId: string;
  runners: ProjectionRunner[];
  sealer: Sealer | null;
  /** Lets every runner finish its batch, releases the locks, closes connections. */
  stop(): Promise<void>;
  /** Resolves when all runners have ended (after stop()). */
  done: Promise<void>;
}

export const DEFAULTS = {
  batchSize: 500,
  maxBatchSize: 8_000,
  pollMs: 1_000,
  lockRetryMs: 1_000,
  heartbeatMs: 5_000,
  sealIntervalMs: 10_000,
  backoff: { initialMs: 250, maxMs: 30_000 },
  completeness: { checkMs: 5_000, fullEveryMs: 600_000 },
};

/**
 * The projector: one runner per projection (each with its own lock, checkpoint and retry state,
 * so a failing search backend never holds back address_view), woken by NOTIFY on the events
 * channel and polling as a fallback.
 */
export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const log = options.log ?? rootLogger.child({ component: 'projector' });
  const workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pool = createPgPool(options.databaseUrl, { max: 6, applicationName: 'projector' });
  const prisma = createPrisma(options.databaseUrl, { max: 3 });
  const store = createLedger(prisma).rawStore;

  const wanted = new Set(options.projections ?? PROJECTION_NAMES);
  const projections: Projection[] = [];
  if (wanted.has('address_view')) projections.push(addressViewProjection(pool, log, options.hooks));
  if (wanted.has('address_search') && options.searchIndex) {
    projections.push(searchProjection(options.searchIndex, pool, log, { hooks: options.hooks }));
  }

  const runners = projections.map(
    (projection) =>
      new ProjectionRunner({
        projection,
        databaseUrl: options.databaseUrl,
        pool,
        store,
        log,
        workerId,
        batchSize: options.batchSize ?? DEFAULTS.batchSize,
        // A caller that chose the batch size (tests of batch boundaries) keeps it unless it asks for growth.
        maxBatchSize: options.maxBatchSize ?? (options.batchSize === undefined ? DEFAULTS.maxBatchSize : undefined),
        pollMs: options.pollMs ?? DEFAULTS.pollMs,
        lockRetryMs: options.lockRetryMs ?? DEFAULTS.lockRetryMs,
        heartbeatMs: options.heartbeatMs ?? DEFAULTS.heartbeatMs,
        backoff: options.backoff ?? DEFAULTS.backoff,
        completeness: options.completeness ?? DEFAULTS.completeness,
        digest: options.digest,
        settleAfterDocuments: options.settleAfterDocuments,
      }),
  );

  const listener = listen(
    options.databaseUrl,
    EVENTS_CHANNEL,
    () => {
      for (const runner of runners) runner.wake();
    },
    log,
    'projector:listen',
  );

  log.info(
    { workerId, projections: projections.map((p) => p.name), search: options.searchIndex?.backend ?? 'none' },
    'projector starting',
  );
  const done = Promise.all(runners.map((r) => r.start())).then(() => undefined);
  // Beside the projections because it reads the same gap-safe order; it has its own lock.
  const sealer = options.sealer ? startSealer({ pool, log, ...options.sealer }) : null;

  let stopped: Promise<void> | null = null;
  return {
    workerId,
    runners,
    sealer,
    done,
    stop() {
      stopped ??= (async () => {
        log.info({ workerId }, 'projector stopping after the batch in progress');
        await Promise.all([...runners.map((r) => r.stop()), sealer?.stop()]);
        await listener.close();
        await Promise.allSettled([pool.end(), prisma.$disconnect()]);
        log.info({ workerId }, 'projector stopped');
      })();
      return stopped;
    },
  };
}
