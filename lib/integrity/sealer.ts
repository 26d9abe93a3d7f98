import type pg from 'pg';
import { decodeCursor, encodeCursor } from '@/domain/event-store/cursor';
import { tryAdvisoryXactLock } from '@/lib/advisory-locks';
import type { Logger } from '@/lib/logger';
import { type Queryable, withTransaction } from '@/projections/pg';
import { nextDigest, signSeal, ZERO_DIGEST } from './chain';
import type { SealKey } from './seal-key';

/** Advisory lock of the sealer: two projector processes must not both write seal n + 1. */
export const SEALER_LOCK_NAME = 'event-sealer';

/** Events per seal at most, so sealing a large backlog is many short transactions, not one long one. */
export const MAX_EVENTS_PER_SEAL = 10_000;

export interface WrittenSeal {
  seq: string;
  headCursor: string;
  headPosition: string;
  eventCount: string;
  /** Hex of the signed digest. */
  digest: string;
  /** Events this seal added. */
  added: number;
}

interface LastSeal {
  seq: string;
  head_cursor: string;
  event_count: string;
  digest: Buffer;
}

/**
 * Writes the next seal over the events that became visible in the gap-safe global order since the
 * last one (at most `maxEvents`), with their entries, in one transaction. Returns null when there
 * is nothing new or another sealer holds the lock.
 */
export async function sealOnce(
  pool: pg.Pool,
  key: SealKey,
  options: { maxEvents?: number } = {},
): Promise<WrittenSeal | null> {
  return withTransaction(pool, async (client) => {
    if (!(await tryAdvisoryXactLock(client, SEALER_LOCK_NAME))) return null;
    const last = (
      await client.query<LastSeal>(
        'SELECT seq::text, head_cursor, event_count::text, digest FROM event_seals ORDER BY event_seals.seq DESC LIMIT 1',
      )
    ).rows[0];
    const after = decodeCursor(last?.head_cursor ?? null);
    // The reader's rule (domain/event-store/postgres-event-store.ts readAll): only below the oldest
    // transaction in flight, so an event that commits later can never fall behind a seal.
    const { rows } = await client.query<{ tx: string; position: string; hash: Buffer }>(
      `SELECT transaction_id::text AS tx, position::text, hash FROM events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.transaction_id, events.position
        LIMIT $3`,
      [after.transactionId, after.position, options.maxEvents ?? MAX_EVENTS_PER_SEAL],
    );
    if (rows.length === 0) return null;

    let digest: Buffer = last?.digest ?? ZERO_DIGEST;
    for (const row of rows) digest = nextDigest(digest, row.position, row.hash);
    const head = rows.at(-1)!;
    const before = BigInt(last?.event_count ?? '0');
    const fields = {
      seq: (BigInt(last?.seq ?? '0') + 1n).toString(),
      headCursor: encodeCursor({ transactionId: head.tx, position: head.position }),
      headPosition: head.position,
      eventCount: (before + BigInt(rows.length)).toString(),
      digest,
      publicKey: key.publicKey,
      sealedAt: new Date().toISOString(),
    };
    const signature = signSeal(fields, key.privateKey);
    await client.query(
      `INSERT INTO event_seals (seq, head_cursor, head_position, event_count, digest, public_key, signature, sealed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        fields.seq,
        fields.headCursor,
        fields.headPosition,
        fields.eventCount,
        digest,
        fields.publicKey,
        signature,
        fields.sealedAt,
      ],
    );
    await client.query(
      `INSERT INTO event_seal_entries (ordinal, position, hash, seal_seq)
       SELECT $1::bigint + e.n, e.position, e.hash, $4::bigint
         FROM unnest($2::bigint[], $3::bytea[]) WITH ORDINALITY AS e(position, hash, n)`,
      [before.toString(), rows.map((r) => r.position), rows.map((r) => r.hash), fields.seq],
    );
    return {
      seq: fields.seq,
      headCursor: fields.headCursor,
      headPosition: fields.headPosition,
      eventCount: fields.eventCount,
      digest: digest.toString('hex'),
      added: rows.length,
    };
  });
}

/** Seals until nothing new is left (a backlog becomes several seals of at most `maxEvents`). */
export async function sealAll(
  pool: pg.Pool,
  key: SealKey,
  options: { maxEvents?: number } = {},
): Promise<WrittenSeal[]> {
  const written: WrittenSeal[] = [];
  for (let seal = await sealOnce(pool, key, options); seal; seal = await sealOnce(pool, key, options)) {
    written.push(seal);
  }
  return written;
}

export interface Sealer {
  /** Seals written by this sealer so far (tests wait on it). */
  readonly written: number;
  stop(): Promise<void>;
}

/**
 * Seals at once and then every `intervalMs` (the projector runs it). A failure is logged and
 * retried at the next interval: sealing late weakens nothing that is already sealed.
 */
export function startSealer(options: { pool: pg.Pool; key: SealKey; intervalMs: number; log: Logger }): Sealer {
  const { pool, key, log } = options;
  // SEAL_INTERVAL_MS=0 must not turn into a loop of queries with no pause.
  const intervalMs = Math.max(50, options.intervalMs);
  let stopped = false;
  let written = 0;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const seal of await sealAll(pool, key)) {
          written++;
          // The digest in the log is a copy of the seal outside the database (README "Tamper evidence").
          log.info({ ...seal }, 'events sealed');
        }
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'sealing failed; retrying later');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  })();
  return {
    get written() {
      return written;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

export interface SealSummary {
  seq: string;
  headPosition: string;
  eventCount: string;
  sealedAt: string;
  publicKey: string;
}

/** The newest seal, for /admin. */
export async function latestSeal(q: Queryable): Promise<SealSummary | null> {
  const { rows } = await q.query<{
    seq: string;
    head_position: string;
    event_count: string;
    sealed_at: Date;
    public_key: string;
  }>(
    `SELECT seq::text, head_position::text, event_count::text, sealed_at, public_key
       FROM event_seals ORDER BY event_seals.seq DESC LIMIT 1`,
  );
  const r = rows[0];
  return r
    ? {
        seq: r.seq,
        headPosition: r.head_position,
        eventCount: r.event_count,
        sealedAt: r.sealed_at.toISOString(),
        publicKey: r.public_key,
      }
    : null;
}
