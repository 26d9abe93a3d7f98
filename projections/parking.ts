import type { Actor } from '@/domain/messages';
import type { ParkedEvent } from './address-view/projection';
import type { Queryable } from './pg';

/**
 * Parked streams (projections/README.md "Parked addresses"): when applying an event throws, the
 * projection parks that address's stream at the event and keeps projecting every other one. An
 * admin then asks for a retry (after a fix) or a skip (with a reason); the decision goes into the
 * append-only `parked_stream_decisions` log and the active worker carries it out on its next batch.
 */

export type ParkedAction = 'retry' | 'skip';

export interface ParkedStream extends ParkedEvent {
  projection: string;
  attempts: number;
  parkedAt: string;
  /** An admin's decision the worker has not carried out yet. */
  requested: ParkedAction | null;
  requestedAt: string | null;
}

interface ParkedRow {
  projection: string;
  stream_id: string;
  event_id: string;
  event_type: string;
  position: string;
  stream_version: number;
  error: string;
  attempts: number;
  parked_at: Date;
  requested: ParkedAction | null;
  requested_at: Date | null;
}

const toParked = (r: ParkedRow): ParkedStream => ({
  projection: r.projection,
  streamId: r.stream_id,
  eventId: r.event_id,
  type: r.event_type,
  position: String(r.position),
  streamVersion: r.stream_version,
  error: r.error,
  attempts: r.attempts,
  parkedAt: r.parked_at.toISOString(),
  requested: r.requested,
  requestedAt: r.requested_at?.toISOString() ?? null,
});

const COLUMNS = `projection, stream_id, event_id::text AS event_id, event_type, position::text AS position,
  stream_version, error, attempts, parked_at, requested, requested_at`;

/** What a batch needs: the parked streams of this projection and every event an admin skipped. */
export async function loadParking(
  q: Queryable,
  projection: string,
): Promise<{ parked: ParkedStream[]; skipped: Set<string>; skippedStreams: Set<string> }> {
  // The requests first, then the skips, one after the other: a skip's request and its logged
  // decision commit together (decideParked), so a request read is always read with its skip. Read
  // side by side (two connections, two snapshots), a request could come without its skip: the
  // runner then retried the event instead of skipping it, parked the address again and dropped
  // the admin's decision (projections/parking.int.spec.ts caught it under load).
  const parked = await q.query<ParkedRow>(`SELECT ${COLUMNS} FROM parked_streams WHERE projection = $1`, [projection]);
  const skipped = await q.query<{ event_id: string; stream_id: string }>(
    `SELECT event_id::text AS event_id, stream_id FROM parked_stream_decisions WHERE projection = $1 AND action = 'skip'`,
    [projection],
  );
  return {
    parked: parked.rows.map(toParked),
    skipped: new Set(skipped.rows.map((r) => r.event_id)),
    skippedStreams: new Set(skipped.rows.map((r) => r.stream_id)),
  };
}

/**
 * In the batch's transaction: parks what the fold parked (again, for a stream whose retry failed:
 * one more attempt, the decision consumed) and unparks the resumed streams that went through.
 */
export async function recordParking(
  q: Queryable,
  projection: string,
  outcome: { parked: readonly ParkedEvent[]; resumed: readonly string[] },
): Promise<void> {
  if (outcome.parked.length > 0) {
    await q.query(
      `INSERT INTO parked_streams AS p (projection, stream_id, event_id, event_type, position, stream_version, error)
       SELECT $1, x.stream_id, x.event_id::uuid, x.type, x.position::bigint, x.stream_version, x.error
         FROM jsonb_to_recordset($2::jsonb) AS x(stream_id text, event_id text, type text, position text,
                                                 stream_version int, error text)
       ON CONFLICT (projection, stream_id) DO UPDATE SET
         event_id = EXCLUDED.event_id, event_type = EXCLUDED.event_type, position = EXCLUDED.position,
         stream_version = EXCLUDED.stream_version, error = EXCLUDED.error, attempts = p.attempts + 1,
         requested = NULL, requested_at = NULL`,
      [
        projection,
        JSON.stringify(
          outcome.parked.map((p) => ({
            stream_id: p.streamId,
            event_id: p.eventId,
            type: p.type,
            position: p.position,
            stream_version: p.streamVersion,
            error: p.error,
          })),
        ),
      ],
    );
  }
  const parkedAgain = new Set(outcome.parked.map((p) => p.streamId));
  const resumed = outcome.resumed.filter((s) => !parkedAgain.has(s));
  if (resumed.length > 0) {
    await q.query('DELETE FROM parked_streams WHERE projection = $1 AND stream_id = ANY($2::text[])', [
      projection,
      resumed,
    ]);
  }
}

/** A rebuild's verified copy comes with the streams its replay parked (same transaction as the swap). */
export async function replaceParking(q: Queryable, projection: string, parked: readonly ParkedEvent[]) {
  await q.query('DELETE FROM parked_streams WHERE projection = $1', [projection]);
  await recordParking(q, projection, { parked, resumed: [] });
}

/** Every parked stream, oldest first (`/api/projections`, `/admin`), at most `limit`. */
export async function listParked(q: Queryable, limit = 100): Promise<ParkedStream[]> {
  const { rows } = await q.query<ParkedRow>(
    `SELECT ${COLUMNS} FROM parked_streams ORDER BY parked_at, projection, stream_id LIMIT $1`,
    [limit],
  );
  return rows.map(toParked);
}

/** Is this address parked in any projection (search and detail then say "not up to date")? */
export async function parkedAddressIds(q: Queryable, addressIds: readonly string[]): Promise<Set<string>> {
  if (addressIds.length === 0) return new Set();
  const { rows } = await q.query<{ id: string }>(
    `SELECT DISTINCT substr(stream_id, length('address-') + 1) AS id FROM parked_streams
      WHERE stream_id = ANY($1::text[])`,
    [addressIds.map((id) => `address-${id}`)],
  );
  return new Set(rows.map((r) => r.id));
}

export interface ParkedDecision {
  action: ParkedAction;
  /** Required for a skip (why this event may be left out); optional for a retry. */
  reason: string | null;
  actor: Actor;
}

export class SkipReasonRequiredError extends Error {
  constructor() {
    super('a skip needs a reason');
    this.name = 'SkipReasonRequiredError';
  }
}

/**
 * Records an admin's decision for every projection that has this address parked, in one
 * transaction: a log row each, and the request the worker acts on. Returns the streams it applies
 * to (none: the address is not parked, e.g. a retry already went through).
 */
export async function decideParked(q: Queryable, addressId: string, decision: ParkedDecision): Promise<ParkedStream[]> {
  const reason = decision.reason?.trim() || null;
  if (decision.action === 'skip' && !reason) throw new SkipReasonRequiredError();
  const { rows } = await q.query<ParkedRow>(
    `WITH target AS (
       SELECT * FROM parked_streams WHERE stream_id = $1 FOR UPDATE
     ), logged AS (
       INSERT INTO parked_stream_decisions
         (projection, stream_id, event_id, event_type, position, action, reason, actor_id, actor_name, actor_role)
       SELECT projection, stream_id, event_id, event_type, position, $2, $3, $4, $5, $6 FROM target
     )
     UPDATE parked_streams p SET requested = $2, requested_at = now()
       FROM target t WHERE p.projection = t.projection AND p.stream_id = t.stream_id
     RETURNING p.projection, p.stream_id, p.event_id::text AS event_id, p.event_type, p.position::text AS position,
               p.stream_version, p.error, p.attempts, p.parked_at, p.requested, p.requested_at`,
    [`address-${addressId}`, decision.action, reason, decision.actor.id, decision.actor.name, decision.actor.role],
  );
  return rows.map(toParked);
}

export interface ParkedDecisionRecord {
  projection: string;
  streamId: string;
  eventId: string;
  position: string;
  action: ParkedAction;
  reason: string | null;
  actorName: string;
  decidedAt: string;
}

/** The decision log, newest first. */
export async function listDecisions(q: Queryable, limit = 50): Promise<ParkedDecisionRecord[]> {
  const { rows } = await q.query<{
    projection: string;
    stream_id: string;
    event_id: string;
    position: string;
    action: ParkedAction;
    reason: string | null;
    actor_name: string;
    decided_at: Date;
  }>(
    `SELECT projection, stream_id, event_id::text AS event_id, position::text AS position, action, reason,
            actor_name, decided_at
       FROM parked_stream_decisions ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    projection: r.projection,
    streamId: r.stream_id,
    eventId: r.event_id,
    position: r.position,
    action: r.action,
    reason: r.reason,
    actorName: r.actor_name,
    decidedAt: r.decided_at.toISOString(),
  }));
}
