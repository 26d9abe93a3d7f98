import pg from 'pg';
import type { EventStore } from '@/domain/event-store/postgres-event-store';
import {
  advisoryLock,
  advisoryUnlock,
  advisoryUnlockAll,
  lockHeldSql,
  lockKeySql,
  tryAdvisoryLock,
} from '@/lib/advisory-locks';
import type { Logger } from '@/lib/logger';
import type { Projection, ProjectionBatch } from './address-projections';
import {
  advanceCheckpoint,
  CheckpointMovedError,
  describeError,
  heartbeat,
  readCheckpoint,
  recordFailure,
} from './checkpoints';
import { CompletenessChecker, recordDigest } from './completeness';
import { loadParking, recordParking } from './parking';

/** Advisory-lock names (lib/advisory-locks.ts). */

/** The longest wait between looks for an event a NOTIFY announced but a reader cannot see yet. */
const NOTIFIED_RETRY_CAP_MS = 250;
/** How long after a NOTIFY an empty batch still means "hidden, look again soon" (then: poll). */
const HIDDEN_EVENT_PATIENCE_MS = 10_000;
/**
 * Documents written since the last settle after which a caught-up runner settles its projection
 * (Projection.settle): an import's worth, not the trickle of everyday edits.
 */
export const SETTLE_AFTER_DOCUMENTS = 5_000;
export const ownerLockName = (projection: string) => `projector:${projection}`;
/**
 * SQL: true while a worker holds the owner lock of the projection named by the SQL expression
 * `projection` (its process or connection gone, the lock is too): what the admin page calls alive
 * and what an import waits for (projections/status.ts, pacing.ts).
 */
export const ownerLockHeldSql = (projection: string) =>
  lockHeldSql(lockKeySql(`${pg.escapeLiteral(ownerLockName(''))} || ${projection}`));
export const batchLockName = (projection: string) => `projector-batch:${projection}`;

export interface RunnerOptions {
  projection: Projection;
  /** For the runner's own connection, which holds its advisory locks for as long as it lives. */
  databaseUrl: string;
  /** For checkpoints and error records. */
  pool: pg.Pool;
  /** Without upcasters (createLedger's `rawStore`): each projection upcasts per event. */
  store: Pick<EventStore, 'readAll' | 'readStream'>;
  log: Logger;
  workerId: string;
  /** Events per batch when the projection is caught up (a NOTIFY's few events, or a trickle). */
  batchSize: number;
  /**
   * Events per batch at most while behind (default: batchSize). Each full batch doubles the next
   * one up to this, and a batch that is not full goes back to batchSize: every batch has a fixed
   * cost (checkpoint, digest, parking, commit, one statement planned per read model), which at 500
   * events a batch kept address_search well below the import's rate (bench "projector during
   * the import"), while a live trickle still goes out in small, prompt batches.
   */
  maxBatchSize?: number;
  /** Fallback poll when no NOTIFY arrives (NOTIFY is an optimisation, never relied on). */
  pollMs: number;
  /** How often a standby worker tries to take over. */
  lockRetryMs: number;
  heartbeatMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** How often the active worker checks the digest (checkMs) and reads every event again (fullEveryMs). */
  completeness: { checkMs: number; fullEveryMs: number };
  /** Off only to price the digest (bench/projection-digest.ts); a projection without it cannot be checked. */
  digest?: boolean;
  /** Default SETTLE_AFTER_DOCUMENTS. */
  settleAfterDocuments?: number;
}

export type RunnerState = 'starting' | 'standby' | 'active' | 'stopped';

/**
 * Drives one projection: takes its advisory lock (one active worker per projection; the others
 * wait as standbys and take over when the holder's connection goes away), then reads the gap-safe
 * global order from the checkpoint in batches and applies them. Failures are retried with
 * exponential backoff, recorded on the checkpoint row, and never advance it.
 */
export class ProjectionRunner {
  state: RunnerState = 'starting';
  /** Reads of the event store so far (tests wait on it instead of sleeping). */
  reads = 0;
  /** Settles done (tests wait on it). */
  settles = 0;
  /** Documents written since the last settle (tests wait for it to reach 0 at the head). */
  writtenSinceSettle = 0;
  /**
   * Settle the first time this term finds nothing to apply (the head, or events hidden behind an
   * older open transaction), however little it wrote: a predecessor killed
   * half way through an import (or a restart right after one) left writes nobody counted, and
   * searches stayed slow until autovacuum came round.
   */
  private settleDue = false;
  private stopping = false;
  private lockClient: pg.Client | null = null;
  private lockLost = false;
  private wakeSleep: (() => void) | null = null;
  private sleepWakesOnNotify = false;
  private notified = false;
  /**
   * When the NOTIFY not yet answered by a batch that applied something arrived. The batch it wakes
   * can find nothing: the gap-safe read stops below any older transaction still open anywhere on
   * the server, so the announced event stays hidden until that one ends. Without this, that
   * event waited for the next NOTIFY or the poll (a minute in tests).
   */
  private notifiedAt: number | null = null;
  private failures = 0;
  private ready = false;
  private lastHeartbeat = 0;
  /** Grows while a NOTIFY'd event stays hidden behind an older open transaction, or after a batch. */
  private quickRetryMs = 10;
  /** The last batch found events: look again soon, backing off, before waiting for a NOTIFY. */
  private followingUp = false;
  readonly name: string;
  private loop: Promise<void> | null = null;
  private readonly checker: CompletenessChecker;
  private lastCheck = 0;
  /** The next batch's size: grows while batches come back full (RunnerOptions.maxBatchSize). */
  private batchLimit: number;

  constructor(private readonly o: RunnerOptions) {
    this.name = o.projection.name;
    this.batchLimit = o.batchSize;
    this.checker = new CompletenessChecker(this.name, o.completeness.fullEveryMs);
  }

  start(): Promise<void> {
    this.loop ??= this.run().finally(() => {
      this.state = 'stopped';
    });
    return this.loop;
  }

  /** New events were appended (NOTIFY): cut an idle wait short. Never cuts a backoff short. */
  wake(): void {
    this.notified = true;
    this.notifiedAt ??= Date.now();
    if (this.sleepWakesOnNotify) this.wakeSleep?.();
  }

  /** Finishes the batch in progress, releases the locks and resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleep?.();
    await this.loop;
  }

  private sleep(ms: number, wakeOnNotify: boolean): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleep = null;
        this.sleepWakesOnNotify = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleep = done;
      this.sleepWakesOnNotify = wakeOnNotify;
    });
  }

  private async run(): Promise<void> {
    const { log } = this.o;
    try {
      while (!this.stopping) {
        if (this.state !== 'active' && !(await this.tryTakeOver())) {
          await this.sleep(this.o.lockRetryMs, false);
          continue;
        }
        try {
          if (!this.ready) {
            // Index settings and the like; if the search backend is down this fails and is
            // retried with backoff while we keep the lock (a standby would fail the same way).
            await this.o.projection.setup();
            this.ready = true;
          }
          const applied = await this.runBatch();
          if (this.failures > 0) log.info({ projection: this.name }, 'projection recovered');
          this.failures = 0;
          await this.maybeCheckCompleteness();
          if (applied > 0) {
            this.notifiedAt = null;
            this.followingUp = true;
            this.quickRetryMs = 10;
          } else {
            await this.idle();
          }
        } catch (error) {
          await this.onFailure(error);
        }
      }
    } finally {
      await this.releaseLocks();
    }
  }

  /** Tries to become the active worker. False means: someone else is, or the database is away. */
  private async tryTakeOver(): Promise<boolean> {
    try {
      if (!this.lockClient || this.lockLost) await this.connectLockClient();
      if (!(await tryAdvisoryLock(this.lockClient!, ownerLockName(this.name)))) {
        if (this.state !== 'standby')
          this.o.log.info({ projection: this.name }, 'another worker is active; standing by');
        this.state = 'standby';
        return false;
      }
      this.o.log.info({ projection: this.name, workerId: this.o.workerId }, 'active for projection');
      this.state = 'active';
      this.ready = false;
      // What a previous holder did is unknown: the first check of this term reads everything.
      this.checker.reset();
      this.lastCheck = 0;
      this.notified = true;
      this.settleDue = true;
      return true;
    } catch (error) {
      if (this.state !== 'standby') {
        this.o.log.warn({ projection: this.name, err: describeError(error) }, 'cannot reach the database; retrying');
      }
      this.state = 'standby';
      await this.dropLockClient();
      return false;
    }
  }

  private async connectLockClient(): Promise<void> {
    await this.dropLockClient();
    const client = new pg.Client({
      connectionString: this.o.databaseUrl,
      application_name: `projector:${this.name}`,
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', (error) => {
      // The connection that holds the lock is gone, so the lock is gone: stop writing as soon as
      // the batch in progress ends (the fenced checkpoint catches the case where it does not).
      this.lockLost = true;
      this.o.log.warn({ projection: this.name, err: describeError(error) }, 'lost the lock connection');
    });
    await client.connect();
    this.lockClient = client;
    this.lockLost = false;
  }

  private async dropLockClient(): Promise<void> {
    const client = this.lockClient;
    this.lockClient = null;
    if (client) await client.end().catch(() => {});
  }

  private async releaseLocks(): Promise<void> {
    if (this.lockClient && !this.lockLost) {
      await advisoryUnlockAll(this.lockClient).catch(() => {});
    }
    await this.dropLockClient();
    this.state = 'stopped';
  }

  /** One batch under the batch lock (a rebuild takes that lock to swap between two batches). */
  private async runBatch(): Promise<number> {
    if (this.lockLost || !this.lockClient) throw new LockLostError(this.name);
    const lock = this.lockClient;
    const key = batchLockName(this.name);
    await advisoryLock(lock, key);
    try {
      if (this.stopping) return 0;
      const checkpoint = await readCheckpoint(this.o.pool, this.name);
      this.notified = false;
      const { parked, skipped } = await loadParking(this.o.pool, this.name);
      const limit = this.batchLimit;
      const read = await this.readBatch(checkpoint.cursor, limit);
      const maxBatchSize = Math.max(this.o.maxBatchSize ?? this.o.batchSize, this.o.batchSize);
      this.batchLimit = (read?.events.length ?? 0) >= limit ? Math.min(limit * 2, maxBatchSize) : this.o.batchSize;
      // An admin's retry or skip: the stream's events from the parked one on, from the store.
      const resume = [];
      for (const p of parked.filter((p) => p.requested !== null)) {
        resume.push({
          streamId: p.streamId,
          events: await this.o.store.readStream(p.streamId, { fromVersion: p.streamVersion }),
        });
      }
      if (!read && resume.length === 0) {
        await this.maybeHeartbeat();
        // Here, under the batch lock: a rebuild swaps its copy in under the same lock, and an
        // ANALYZE still running on the live table would make the swap wait past its lock_timeout
        // and throw the rebuilt copy away.
        await this.maybeSettle();
        return 0;
      }
      const batch: ProjectionBatch = {
        events: read?.events ?? [],
        from: checkpoint.cursor,
        to: read?.to ?? checkpoint.cursor,
        held: new Set(parked.map((p) => p.streamId)),
        skipped,
        resume,
      };
      const started = Date.now();
      this.o.log.debug(
        { projection: this.name, from: batch.from, to: batch.to, events: batch.events.length },
        'applying batch',
      );
      const outcome = await this.o.projection.apply(batch, async (q, outcome) => {
        if (this.lockLost) throw new LockLostError(this.name);
        await advanceCheckpoint(q, this.name, {
          from: batch.from,
          to: batch.to,
          events: batch.events.length,
          workerId: this.o.workerId,
        });
        if (this.o.digest !== false) await recordDigest(q, this.name, batch.events);
        await recordParking(q, this.name, outcome);
      });
      const { written } = outcome;
      this.writtenSinceSettle += written;
      for (const streamId of outcome.resumed) {
        if (!outcome.parked.some((p) => p.streamId === streamId)) {
          this.o.log.info({ projection: this.name, streamId }, 'parked address resumed');
        }
      }
      this.lastHeartbeat = Date.now();
      this.o.log.info(
        {
          projection: this.name,
          events: batch.events.length,
          documents: written,
          parked: outcome.parked.length,
          checkpoint: batch.to,
          ms: Date.now() - started,
        },
        'batch applied',
      );
      return batch.events.length + resume.length;
    } finally {
      if (!this.lockLost) await advisoryUnlock(lock, key).catch(() => {});
    }
  }

  private async readBatch(
    cursor: string,
    limit: number,
  ): Promise<{ events: ProjectionBatch['events']; to: string } | null> {
    const events: ProjectionBatch['events'] = [];
    let after = cursor;
    const started = Date.now();
    while (events.length < limit && !this.stopping) {
      const want = limit - events.length;
      const page = await this.o.store.readAll({ after, limit: want });
      this.reads++;
      events.push(...page.events);
      after = page.next;
      if (page.events.length === want) break;
      const lingerLeft = this.o.projection.lingerMs - (Date.now() - started);
      if (events.length === 0 || lingerLeft <= 0) break;
      // A trickle of single events would otherwise become one index write each.
      await this.sleep(lingerLeft, true);
    }
    return events.length > 0 ? { events, to: after } : null;
  }

  /**
   * Nothing to read. After a NOTIFY the event may still be hidden behind an older transaction
   * that has not committed (the gap-safe read waits for it), so look again soon. After a batch
   * too: appends NOTIFY only from one transaction in flight at a time (notify_events, migration
   * 20261202020000), so one that committed just after the notifying one sent none; the looks
   * back off (20, 40, 80 … ms up to the poll interval), so it is found within about twice its
   * delay. Otherwise wait for the next NOTIFY or the poll interval.
   */
  private async idle(): Promise<void> {
    const hidden = this.notifiedAt !== null && Date.now() - this.notifiedAt < HIDDEN_EVENT_PATIENCE_MS;
    if (!hidden) this.notifiedAt = null;
    if (this.notified || this.followingUp || hidden) {
      // A NOTIFY'd event that is still hidden is looked for at least every NOTIFIED_RETRY_CAP_MS
      // (the live-lag goal is under a second); a follow-up after a batch backs off to the poll.
      const cap = this.notified || hidden ? Math.min(this.o.pollMs, NOTIFIED_RETRY_CAP_MS) : this.o.pollMs;
      this.quickRetryMs = Math.min(this.quickRetryMs * 2, cap);
      if (this.quickRetryMs >= this.o.pollMs) this.followingUp = false;
      await this.sleep(this.quickRetryMs, !this.notified);
      return;
    }
    this.quickRetryMs = 10;
    await this.sleep(this.o.pollMs, true);
  }

  /**
   * Caught up after many writes: the projection settles its target before the next search. Right
   * after an import of 131,650 addresses, searches took 150 ms at p95 instead of 20 ms until
   * autovacuum came round (migration 20261204030000_read_model_settle). Also once per term (see
   * settleDue). Failing costs only speed.
   */
  private async maybeSettle(): Promise<void> {
    const { projection, log } = this.o;
    const threshold = this.o.settleAfterDocuments ?? SETTLE_AFTER_DOCUMENTS;
    if (!projection.settle || (!this.settleDue && this.writtenSinceSettle < threshold)) return;
    const documents = this.writtenSinceSettle;
    this.writtenSinceSettle = 0;
    this.settleDue = false;
    const started = Date.now();
    try {
      await projection.settle();
      this.settles++;
      log.info({ projection: this.name, documents, ms: Date.now() - started }, 'settled its read model');
    } catch (error) {
      log.warn({ projection: this.name, err: describeError(error) }, 'could not settle; autovacuum will in time');
    }
  }

  /** Compares the projection's digest with the events' (projections/completeness.ts) now and then. */
  private async maybeCheckCompleteness(): Promise<void> {
    if (this.o.digest === false || Date.now() - this.lastCheck < this.o.completeness.checkMs) return;
    this.lastCheck = Date.now();
    try {
      const verdict = await this.checker.check(this.o.pool);
      if (!verdict.complete) {
        this.o.log.error(
          { projection: this.name, range: verdict.range, ...verdict.detail, cursor: verdict.cursor },
          'projection is incomplete: its digest differs from the event store; rebuild it',
        );
      }
    } catch (error) {
      this.checker.reset();
      this.o.log.warn({ projection: this.name, err: describeError(error) }, 'completeness check failed');
    }
  }

  private async maybeHeartbeat(): Promise<void> {
    if (Date.now() - this.lastHeartbeat < this.o.heartbeatMs) return;
    await heartbeat(this.o.pool, this.name, this.o.workerId);
    this.lastHeartbeat = Date.now();
  }

  private async onFailure(error: unknown): Promise<void> {
    const { log } = this.o;
    if (error instanceof CheckpointMovedError) {
      // A rebuild swapped the table in, or another worker wrote while we thought we held the lock:
      // our batch was rolled back; start again from the stored checkpoint.
      log.warn({ projection: this.name }, 'checkpoint moved by someone else; re-reading it');
      return;
    }
    if (error instanceof LockLostError || this.lockLost) {
      log.warn({ projection: this.name }, 'no longer holding the projection lock; standing by');
      this.state = 'standby';
      await this.dropLockClient();
    }
    this.failures++;
    const delay = Math.min(this.o.backoff.initialMs * 2 ** (this.failures - 1), this.o.backoff.maxMs);
    log.error(
      { projection: this.name, err: describeError(error), attempt: this.failures, retryInMs: delay },
      'projection batch failed; will retry',
    );
    await recordFailure(this.o.pool, this.name, error, this.o.workerId).catch(() => {});
    await this.sleep(delay, false);
  }
}

export class LockLostError extends Error {
  constructor(projection: string) {
    super(`the advisory lock of ${projection} was lost with its connection`);
    this.name = 'LockLostError';
  }
}
