import type { CheckpointRow } from './checkpoints';
import { listParked, type ParkedStream } from './parking';
import type { Queryable } from './pg';
import { ownerLockHeldSql } from './runner';

export interface ProjectionStatus {
  name: string;
  cursor: string;
  /** Global position of the last event applied. */
  position: string;
  /** Committed events the projection has not applied yet. */
  lagEvents: number;
  /** Age of the oldest event not applied yet (0 when caught up), by the database clock. */
  lagSeconds: number;
  eventsProcessed: string;
  updatedAt: string;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The last attempt failed (the error streak is still running). */
  failing: boolean;
  errorCount: number;
  workerId: string | null;
  heartbeatAt: string | null;
  /** Some worker holds this projection's lock right now (its connection is alive). */
  alive: boolean;
  /**
   * The completeness checker's last verdict (projections/completeness.ts): false when the events
   * the projection passed differ from the event store's; null before the first check.
   */
  complete: boolean | null;
  /** The first range of positions whose digests differ, when incomplete. */
  incompleteRange: { from: string; to: string; expectedEvents: string; projectedEvents: string } | null;
  completenessCheckedAt: string | null;
  /** Addresses whose events wait because one could not be applied (at most 100 listed). */
  parked: ParkedStream[];
}

export interface ProjectorStatus {
  /** Highest position appended so far. */
  head: string;
  projections: ProjectionStatus[];
}

/** Counting lag stops here: beyond it the exact number does not change what anyone does. */
const LAG_COUNT_CAP = 1_000_000;

interface StatusRow extends CheckpointRow {
  complete: boolean | null;
  incomplete_range: string | null;
  incomplete_detail: { rangeEnd: string; expectedEvents: string; projectedEvents: string } | null;
  completeness_checked_at: Date | null;
  lag_events: number;
  lag_seconds: number | null;
  alive: boolean;
}

/**
 * Head, checkpoints, lag and liveness of every projection. "Alive" is read from pg_locks: the
 * active worker holds its projection's advisory lock on a connection of its own, so the lock is
 * gone the moment the worker's process or connection is (no heartbeat timeout to wait out).
 */
export async function getProjectionStatus(q: Queryable): Promise<ProjectorStatus> {
  const { rows } = await q.query<StatusRow>(
    `SELECT c.name, c.cursor, c.position::text, c.events_processed::text, c.updated_at, c.last_error,
            c.last_error_at, c.error_count, c.worker_id, c.heartbeat_at,
            c.complete, c.incomplete_range::text, c.incomplete_detail, c.completeness_checked_at,
            lag.n AS lag_events,
            extract(epoch FROM (now() - pending.recorded_at))::float8 AS lag_seconds,
            ${ownerLockHeldSql('c.name')} AS alive
       FROM projection_checkpoints c
      CROSS JOIN LATERAL (
        SELECT split_part(c.cursor, '-', 1)::xid8 AS tx, split_part(c.cursor, '-', 2)::bigint AS pos
      ) k
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n FROM (
          SELECT 1 FROM events e WHERE (e.transaction_id, e.position) > (k.tx, k.pos) LIMIT ${LAG_COUNT_CAP}
        ) pending_events
      ) lag
      LEFT JOIN LATERAL (
        SELECT e.recorded_at FROM events e
         WHERE (e.transaction_id, e.position) > (k.tx, k.pos)
         ORDER BY e.transaction_id, e.position LIMIT 1
      ) pending ON true
      ORDER BY c.name`,
  );
  const head = await q.query<{ p: string | null }>('SELECT max(position)::text AS p FROM events');
  const parked = await listParked(q);
  return {
    head: head.rows[0]?.p ?? '0',
    projections: rows.map((r) => ({
      name: r.name,
      cursor: r.cursor,
      position: r.position,
      lagEvents: r.lag_events,
      lagSeconds: r.lag_seconds === null ? 0 : Math.max(0, Math.round(r.lag_seconds * 1000) / 1000),
      eventsProcessed: r.events_processed,
      updatedAt: r.updated_at.toISOString(),
      lastError: r.last_error,
      lastErrorAt: r.last_error_at?.toISOString() ?? null,
      failing: r.error_count > 0,
      errorCount: r.error_count,
      workerId: r.worker_id,
      heartbeatAt: r.heartbeat_at?.toISOString() ?? null,
      alive: r.alive,
      complete: r.complete,
      incompleteRange:
        r.incomplete_range !== null && r.incomplete_detail
          ? {
              from: r.incomplete_range,
              to: r.incomplete_detail.rangeEnd,
              expectedEvents: r.incomplete_detail.expectedEvents,
              projectedEvents: r.incomplete_detail.projectedEvents,
            }
          : null,
      completenessCheckedAt: r.completeness_checked_at?.toISOString() ?? null,
      parked: parked.filter((p) => p.projection === r.name),
    })),
  };
}
