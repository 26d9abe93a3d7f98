import type pg from 'pg';
import { compareCursors, decodeCursor } from '@/domain/event-store/cursor';
import type { RecordedEvent } from '@/domain/messages';
import { readCheckpoint } from './checkpoints';
import { type Queryable, withTransaction } from './pg';

/**
 * Completeness digests (projections/README.md "Completeness"). A lag metric only says how far a
 * projection's checkpoint is from the head; it stays green when a bug moves the checkpoint past an
 * event that was never applied. So every projection also keeps, per range of DIGEST_RANGE global
 * positions, the count of events it passed and the sum of a 64-bit hash of their ids (order-
 * independent: the gap-safe order is not the position order). It is written in the same
 * transaction as the checkpoint, and the checker compares it with the same digest of `events`.
 */

export const DIGEST_RANGE = 10_000;

/** The hash of one event id, in SQL; both sides of the comparison use this very expression. */
const EVENT_HASH = (column: string) => `hashtextextended(${column}::text, 0)`;

/** Adds the events a batch passed to the projection's digest (inside the checkpoint's transaction). */
export async function recordDigest(
  q: Queryable,
  projection: string,
  events: readonly Pick<RecordedEvent, 'position' | 'eventId'>[],
): Promise<void> {
  if (events.length === 0) return;
  await q.query(
    `INSERT INTO projection_digests AS d (projection, range_start, event_count, hash_sum)
     SELECT $1::text, (x.p / ${DIGEST_RANGE}) * ${DIGEST_RANGE}, count(*), sum(${EVENT_HASH('x.e')})
       FROM unnest($2::bigint[], $3::text[]) AS x(p, e)
      GROUP BY 2
     ON CONFLICT (projection, range_start) DO UPDATE
        SET event_count = d.event_count + EXCLUDED.event_count, hash_sum = d.hash_sum + EXCLUDED.hash_sum`,
    [projection, events.map((e) => e.position), events.map((e) => e.eventId)],
  );
}

/** A rebuild's copy brings the digest its replay wrote under `from`: it becomes `to`'s (swap transaction). */
export async function moveDigest(q: Queryable, from: string, to: string): Promise<void> {
  await q.query('DELETE FROM projection_digests WHERE projection = $1', [to]);
  await q.query('UPDATE projection_digests SET projection = $2 WHERE projection = $1', [from, to]);
}

export async function dropDigest(q: Queryable, projection: string): Promise<void> {
  await q.query('DELETE FROM projection_digests WHERE projection = $1', [projection]);
}

interface RangeDigest {
  count: bigint;
  hash: bigint;
}
type Digest = Map<string, RangeDigest>;

export interface CompletenessVerdict {
  complete: boolean;
  /** First position of the first range whose digests differ, or null when complete. */
  range: string | null;
  detail: { rangeEnd: string; expectedEvents: string; projectedEvents: string; hashesDiffer: boolean } | null;
  /** The checkpoint the verdict is about. */
  cursor: string;
  full: boolean;
}

function add(into: Digest, rows: { r: string; n: string; h: string }[]) {
  for (const row of rows) {
    const was = into.get(row.r) ?? { count: 0n, hash: 0n };
    into.set(row.r, { count: was.count + BigInt(row.n), hash: was.hash + BigInt(row.h) });
  }
}

async function eventsDigest(
  q: Queryable,
  after: string | null,
  upTo: string,
): Promise<{ r: string; n: string; h: string }[]> {
  const to = decodeCursor(upTo);
  const from = after === null ? null : decodeCursor(after);
  const { rows } = await q.query<{ r: string; n: string; h: string }>(
    `SELECT ((position / ${DIGEST_RANGE}) * ${DIGEST_RANGE})::text AS r, count(*)::text AS n,
            sum(${EVENT_HASH('event_id')})::text AS h
       FROM events
      WHERE (transaction_id, position) <= ($1::xid8, $2::bigint)
        AND ($3::xid8 IS NULL OR (transaction_id, position) > ($3::xid8, $4::bigint))
      GROUP BY 1`,
    [to.transactionId, to.position, from?.transactionId ?? null, from?.position ?? null],
  );
  return rows;
}

/**
 * Compares a projection's digest with the events' own, per range. It keeps the events' digest up
 * to the last checkpoint it saw and, on each check, reads only the events the checkpoint passed
 * since (plus a full pass every `fullEveryMs`, and whenever the checkpoint went backwards), and
 * every digest row of the projection (one per 10,000 positions: a few hundred rows for millions of
 * events). Checkpoint, digest rows and events are read in one snapshot, and the checkpoint only
 * passes events of finished transactions, so the two sides describe the same set of events.
 */
export class CompletenessChecker {
  private expected: Digest = new Map();
  private cursor: string | null = null;
  private lastFull = 0;

  constructor(
    private readonly projection: string,
    private readonly fullEveryMs: number,
  ) {}

  /** Forget what was read (the next check is a full pass). */
  reset(): void {
    this.cursor = null;
  }

  async check(pool: pg.Pool): Promise<CompletenessVerdict> {
    const verdict = await withTransaction(
      pool,
      async (client) => {
        const { cursor } = await readCheckpoint(client, this.projection);
        const full =
          this.cursor === null ||
          Date.now() - this.lastFull >= this.fullEveryMs ||
          compareCursors(decodeCursor(cursor), decodeCursor(this.cursor)) < 0;
        const expected: Digest = full ? new Map() : new Map(this.expected);
        add(expected, await eventsDigest(client, full ? null : this.cursor, cursor));
        const { rows } = await client.query<{ r: string; n: string; h: string }>(
          `SELECT range_start::text AS r, event_count::text AS n, hash_sum::text AS h
             FROM projection_digests WHERE projection = $1`,
          [this.projection],
        );
        const projected: Digest = new Map();
        add(projected, rows);
        this.expected = expected;
        this.cursor = cursor;
        if (full) this.lastFull = Date.now();
        return { ...firstDifference(expected, projected), cursor, full };
      },
      { repeatableRead: true, readOnly: true },
    );
    await pool.query(
      `UPDATE projection_checkpoints
          SET complete = $2, incomplete_range = $3, incomplete_detail = $4, completeness_checked_at = now()
        WHERE name = $1`,
      [this.projection, verdict.complete, verdict.range, verdict.detail ? JSON.stringify(verdict.detail) : null],
    );
    return verdict;
  }
}

function firstDifference(
  expected: Digest,
  projected: Digest,
): Pick<CompletenessVerdict, 'complete' | 'range' | 'detail'> {
  const zero = { count: 0n, hash: 0n };
  const ranges = [...new Set([...expected.keys(), ...projected.keys()])].sort((a, b) =>
    BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0,
  );
  for (const range of ranges) {
    const e = expected.get(range) ?? zero;
    const p = projected.get(range) ?? zero;
    if (e.count !== p.count || e.hash !== p.hash) {
      return {
        complete: false,
        range,
        detail: {
          rangeEnd: String(BigInt(range) + BigInt(DIGEST_RANGE) - 1n),
          expectedEvents: String(e.count),
          projectedEvents: String(p.count),
          hashesDiffer: e.hash !== p.hash,
        },
      };
    }
  }
  return { complete: true, range: null, detail: null };
}
