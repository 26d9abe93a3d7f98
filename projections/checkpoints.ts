import { decodeCursor } from '@/domain/event-store/cursor';
import type { Queryable } from './pg';

/** The projections this worker runs; each has its own checkpoint row, lock and retry state. */
/** NOTIFYed (payload: the projection's name) when a projection's checkpoint moves on. */
export const PROJECTED_CHANNEL = 'address_ledger_projected';

export const PROJECTION_NAMES = ['address_view', 'address_search'] as const;
export type ProjectionName = (typeof PROJECTION_NAMES)[number];

export interface Checkpoint {
  name: string;
  /** "<transaction id>-<position>" of the last event applied. */
  cursor: string;
  position: string;
  eventsProcessed: string;
  updatedAt: string;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Consecutive failed attempts; 0 once a batch succeeds again. */
  errorCount: number;
  workerId: string | null;
  heartbeatAt: string | null;
}

export interface CheckpointRow {
  name: string;
  cursor: string;
  position: string;
  events_processed: string;
  updated_at: Date;
  last_error: string | null;
  last_error_at: Date | null;
  error_count: number;
  worker_id: string | null;
  heartbeat_at: Date | null;
}

/** The checkpoint moved under us: another worker or a rebuild swap advanced it. Not an error. */
export class CheckpointMovedError extends Error {
  constructor(
    readonly projection: string,
    readonly expected: string,
  ) {
    super(`checkpoint of ${projection} is no longer at ${expected}`);
    this.name = 'CheckpointMovedError';
  }
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    name: row.name,
    cursor: row.cursor,
    position: String(row.position),
    eventsProcessed: String(row.events_processed),
    updatedAt: row.updated_at.toISOString(),
    lastError: row.last_error,
    lastErrorAt: row.last_error_at?.toISOString() ?? null,
    errorCount: row.error_count,
    workerId: row.worker_id,
    heartbeatAt: row.heartbeat_at?.toISOString() ?? null,
  };
}

export async function readCheckpoint(q: Queryable, name: string): Promise<Checkpoint> {
  const select = () => q.query<CheckpointRow>('SELECT * FROM projection_checkpoints WHERE name = $1', [name]);
  let { rows } = await select();
  if (!rows[0]) {
    // The row normally comes from the migration; a projection added later creates its own.
    await q.query('INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
    ({ rows } = await select());
  }
  return toCheckpoint(rows[0]!);
}

export async function readCheckpoints(q: Queryable): Promise<Checkpoint[]> {
  const { rows } = await q.query<CheckpointRow>('SELECT * FROM projection_checkpoints ORDER BY name');
  return rows.map(toCheckpoint);
}

/**
 * Moves the checkpoint from `from` to `to`, fenced: if the row is no longer at `from`, someone else
 * moved it and this batch must not count (the caller's transaction is rolled back). Clears the
 * error streak, since a batch just succeeded.
 */
export async function advanceCheckpoint(
  q: Queryable,
  name: string,
  move: { from: string; to: string; events: number; workerId: string },
): Promise<void> {
  const position = decodeCursor(move.to).position;
  // The NOTIFY is delivered on commit, so a reader woken by it sees the batch.
  const result = await q.query(
    `WITH moved AS (
       UPDATE projection_checkpoints
          SET cursor = $3, position = $4, events_processed = events_processed + $5, updated_at = now(),
              error_count = 0, worker_id = $6, heartbeat_at = now()
        WHERE name = $1 AND cursor = $2
       RETURNING name)
     SELECT pg_notify($7, name) FROM moved`,
    [name, move.from, move.to, position, move.events, move.workerId, PROJECTED_CHANNEL],
  );
  if (result.rowCount !== 1) throw new CheckpointMovedError(name, move.from);
}

/** Sets the checkpoint outright (rebuild swap, or an operator resetting a projection). */
export async function setCheckpoint(
  q: Queryable,
  name: string,
  to: string,
  options: { expected?: string; eventsProcessed?: number } = {},
): Promise<void> {
  const result = await q.query(
    `UPDATE projection_checkpoints
        SET cursor = $2, position = $3, updated_at = now(), error_count = 0,
            events_processed = coalesce($5::bigint, events_processed)
      WHERE name = $1 AND ($4::text IS NULL OR cursor = $4)`,
    [name, to, decodeCursor(to).position, options.expected ?? null, options.eventsProcessed ?? null],
  );
  if (result.rowCount !== 1) throw new CheckpointMovedError(name, options.expected ?? '(any)');
}

export async function recordFailure(q: Queryable, name: string, error: unknown, workerId: string): Promise<void> {
  const message = describeError(error).slice(0, 2_000);
  await q.query(
    `UPDATE projection_checkpoints
        SET last_error = $2, last_error_at = now(), error_count = error_count + 1, worker_id = $3, heartbeat_at = now()
      WHERE name = $1`,
    [name, message, workerId],
  );
}

export async function heartbeat(q: Queryable, name: string, workerId: string): Promise<void> {
  await q.query('UPDATE projection_checkpoints SET worker_id = $2, heartbeat_at = now() WHERE name = $1', [
    name,
    workerId,
  ]);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
