import { decodeCursor, START } from '@/domain/event-store/cursor';
import type { Queryable } from '@/projections/pg';
import {
  byPosition,
  type ChainedEvent,
  checkSeals,
  checkStreamStep,
  nextDigest,
  type Problem,
  type SealRow,
  type StreamLink,
  ZERO_DIGEST,
} from './chain';
import type { TrustedKeys } from './seal-key';

/*
 * `npm run verify` and "Verify now" (README "Tamper evidence"). Three walks, all read-only:
 *   1. every stream in version order: versions without gaps, positions growing, each event's
 *      hash chained to the one before it (catches a changed event, a deleted one in the middle of
 *      its stream, a version forged with a wrong hash);
 *   2. the seals: numbered without holes, signatures valid, signed by a trusted key;
 *   3. the sealed entries side by side with the events in gap-safe global order up to the last
 *      seal, and the running digest over the entries against every seal's signed digest (catches
 *      what the stream chains cannot: a deleted last event of a stream, an event inserted with a
 *      correct hash into sealed history, two events swapped, a rewritten witness table).
 * The verification logic is pure (chain.ts); this module reads rows and lines them up.
 */

export interface VerifyProgress {
  phase: 'streams' | 'seals';
  processed: number;
  total: number;
}

export interface VerifySummary {
  events: number;
  streams: number;
  seals: number;
  sealedEvents: number;
  /** Events after the last seal: checked by their stream chains only. */
  unsealedEvents: number;
  lastSeal: { seq: string; headPosition: string; sealedAt: string } | null;
  /** Where the trusted public key came from; null: only checked against the key stored with each seal. */
  trustedKey: TrustedKeys['source'] | null;
}

export interface VerifyReport {
  ok: boolean;
  summary: VerifySummary;
  /** First broken position first; at most `maxProblems`. */
  problems: Problem[];
}

export interface VerifyOptions {
  trusted: TrustedKeys | null;
  onProgress?: (progress: VerifyProgress) => void;
  /** Stop after this many problems (default 50): the first one is what matters. */
  maxProblems?: number;
  pageSize?: number;
}

/** `recorded_at` in whole microseconds since the epoch, as event_hash() encodes it (chain.ts). */
const RECORDED_AT_MICROS = `(extract(epoch FROM (recorded_at - '1970-01-01 00:00:00+00'::timestamptz)) * 1000000)::bigint::text`;

/** The columns of an event as the verifier reads them (see ChainedEvent); use with `toChained`. */
export const CHAINED_EVENT_COLUMNS = `position::text, stream_id, stream_version, event_id::text, type, schema_version,
  data::text AS data_text, metadata::text AS metadata_text, ${RECORDED_AT_MICROS} AS micros, hash`;

export interface ChainedEventRow {
  position: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data_text: string;
  metadata_text: string;
  micros: string;
  hash: Buffer;
}

export const toChained = (r: ChainedEventRow): ChainedEvent => ({
  position: r.position,
  eventId: r.event_id,
  streamId: r.stream_id,
  streamVersion: r.stream_version,
  type: r.type,
  schemaVersion: r.schema_version,
  dataText: r.data_text,
  metadataText: r.metadata_text,
  recordedAtMicros: r.micros,
  hash: r.hash,
});

/** Rows of a keyset-paged query, one at a time. */
async function* paged<T>(fetch: (last: T | null) => Promise<T[]>): AsyncGenerator<T> {
  let last: T | null = null;
  while (true) {
    const rows = await fetch(last);
    if (rows.length === 0) return;
    yield* rows;
    last = rows.at(-1)!;
  }
}

export async function verifyLedger(q: Queryable, options: VerifyOptions): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? 2_000;
  const maxProblems = options.maxProblems ?? 50;
  const problems = new Map<string, Problem>();
  const add = (p: Problem | null) => {
    if (p && problems.size < maxProblems) problems.set(`${p.kind}:${p.position}:${p.sealSeq ?? ''}`, p);
  };
  const full = () => problems.size >= maxProblems;

  const counts = (
    await q.query<{ events: number; entries: number }>(
      'SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM event_seal_entries)::int AS entries',
    )
  ).rows[0]!;
  const total = counts.events + counts.entries;
  let processed = 0;
  const progress = (phase: VerifyProgress['phase']) => options.onProgress?.({ phase, processed, total });
  progress('streams');

  // 1. streams ---------------------------------------------------------------------------------
  let previous: StreamLink | null = null;
  let brokenStream: string | null = null;
  let streams = 0;
  let events = 0;
  const streamRows = paged<ChainedEventRow>(async (last) => {
    const { rows } = await q.query<ChainedEventRow>(
      `SELECT ${CHAINED_EVENT_COLUMNS} FROM events
        WHERE (stream_id, stream_version) > ($1::text, $2::int)
        ORDER BY stream_id, stream_version LIMIT $3`,
      [last?.stream_id ?? '', last?.stream_version ?? 0, pageSize],
    );
    return rows;
  });
  for await (const row of streamRows) {
    const e = toChained(row);
    events++;
    if (previous?.streamId !== e.streamId) streams++;
    // After the first problem in a stream the rest of it fails as a consequence: one report each.
    if (brokenStream !== e.streamId && !full()) {
      const problem = checkStreamStep(previous, e);
      if (problem) {
        add(problem);
        brokenStream = e.streamId;
      }
    }
    previous = e;
    if (++processed % pageSize === 0) progress('streams');
  }

  // 2. seals -----------------------------------------------------------------------------------
  progress('seals');
  const seals = (
    await q.query<{
      seq: string;
      head_cursor: string;
      head_position: string;
      event_count: string;
      digest: Buffer;
      public_key: string;
      signature: Buffer;
      sealed_at: Date;
    }>(
      `SELECT seq::text, head_cursor, head_position::text, event_count::text, digest, public_key, signature, sealed_at
         FROM event_seals ORDER BY event_seals.seq`,
    )
  ).rows.map(
    (r): SealRow => ({
      seq: r.seq,
      headCursor: r.head_cursor,
      headPosition: r.head_position,
      eventCount: r.event_count,
      digest: r.digest,
      publicKey: r.public_key,
      signature: r.signature,
      sealedAt: r.sealed_at.toISOString(),
    }),
  );
  for (const p of checkSeals(seals, options.trusted?.keys ?? null)) add(p);

  // 3. sealed entries against the events, in gap-safe global order up to the last seal ----------
  const lastSeal = seals.at(-1) ?? null;
  if (lastSeal && !full())
    await compareSealed(q, seals, lastSeal, pageSize, add, full, () => {
      if (++processed % pageSize === 0) progress('seals');
    });
  processed = total;
  progress('seals');

  const sealedEvents = Number(lastSeal?.eventCount ?? 0);
  return {
    ok: problems.size === 0,
    problems: [...problems.values()].sort(byPosition),
    summary: {
      events,
      streams,
      seals: seals.length,
      sealedEvents,
      unsealedEvents: Math.max(0, events - sealedEvents),
      lastSeal: lastSeal
        ? { seq: lastSeal.seq, headPosition: lastSeal.headPosition, sealedAt: lastSeal.sealedAt }
        : null,
      trustedKey: options.trusted?.source ?? null,
    },
  };
}

interface Entry {
  ordinal: string;
  position: string;
  hash: Buffer;
}

interface GlobalRow {
  tx: string;
  position: string;
  hash: Buffer;
}

async function compareSealed(
  q: Queryable,
  seals: SealRow[],
  lastSeal: SealRow,
  pageSize: number,
  add: (p: Problem) => void,
  full: () => boolean,
  tick: () => void,
): Promise<void> {
  const head = decodeCursor(lastSeal.headCursor);
  const entries = paged<Entry>(async (last) => {
    const { rows } = await q.query<Entry>(
      // Bounded by the last seal read above: a seal written while this runs is not compared.
      `SELECT ordinal::text, position::text, hash FROM event_seal_entries
        WHERE ordinal > $1::bigint AND ordinal <= $2::bigint ORDER BY event_seal_entries.ordinal LIMIT $3`,
      [last?.ordinal ?? '0', lastSeal.eventCount, pageSize],
    );
    return rows;
  });
  const actual = paged<GlobalRow>(async (last) => {
    const after = last ? { transactionId: last.tx, position: last.position } : START;
    const { rows } = await q.query<GlobalRow>(
      `SELECT transaction_id::text AS tx, position::text, hash FROM events
        WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
          AND (transaction_id, position) <= ($3::xid8, $4::bigint)
        ORDER BY events.transaction_id, events.position LIMIT $5`,
      [after.transactionId, after.position, head.transactionId, head.position, pageSize],
    );
    return rows;
  });
  const eventAt = async (position: string) =>
    (await q.query('SELECT 1 FROM events WHERE position = $1::bigint', [position])).rowCount! > 0;
  const sealedAt = async (position: string) =>
    (await q.query('SELECT 1 FROM event_seal_entries WHERE position = $1::bigint', [position])).rowCount! > 0;
  const sealedPositionOf = async (hash: Buffer) =>
    (
      await q.query<{ position: string }>('SELECT position::text FROM event_seal_entries WHERE hash = $1 LIMIT 1', [
        hash,
      ])
    ).rows[0]?.position ?? null;

  let digest: Buffer = ZERO_DIGEST;
  let ordinal = 0n;
  let sealIndex = 0;
  let s = await entries.next();
  let e = await actual.next();
  /** Moves past one sealed entry, extending the digest and checking it at each seal it completes. */
  const consumeEntry = async (entry: Entry) => {
    digest = nextDigest(digest, entry.position, entry.hash);
    ordinal++;
    for (; sealIndex < seals.length && BigInt(seals[sealIndex]!.eventCount) === ordinal; sealIndex++) {
      const seal = seals[sealIndex]!;
      if (!digest.equals(seal.digest) || seal.headPosition !== entry.position) {
        add({
          kind: 'seal-mismatch',
          position: seal.headPosition,
          sealSeq: seal.seq,
          message: `the sealed record up to position ${seal.headPosition} no longer matches seal ${seal.seq}'s signed digest (its entries were rewritten)`,
        });
      }
    }
    tick();
    s = await entries.next();
  };

  while (!(s.done && e.done) && !full()) {
    if (e.done) {
      const entry = s.value as Entry;
      add(
        (await eventAt(entry.position))
          ? {
              kind: 'reordered',
              position: entry.position,
              message: `the event sealed at position ${entry.position} was moved after the last seal`,
            }
          : {
              kind: 'deleted',
              position: entry.position,
              message: `the event sealed at position ${entry.position} is gone`,
            },
      );
      await consumeEntry(entry);
      continue;
    }
    const event = e.value as GlobalRow;
    if (s.done) {
      add({
        kind: 'inserted',
        position: event.position,
        message: `position ${event.position} sits inside sealed history but was never sealed`,
      });
      e = await actual.next();
      continue;
    }
    const entry = s.value as Entry;
    if (entry.position === event.position) {
      if (!entry.hash.equals(event.hash)) {
        const elsewhere = await sealedPositionOf(event.hash);
        add(
          elsewhere && elsewhere !== event.position
            ? {
                kind: 'reordered',
                position: event.position,
                message: `position ${event.position} holds the event sealed at position ${elsewhere}`,
              }
            : {
                kind: 'changed',
                position: event.position,
                message: `position ${event.position} no longer holds the event that was sealed there`,
              },
        );
      }
      await consumeEntry(entry);
      e = await actual.next();
      continue;
    }
    if (!(await eventAt(entry.position))) {
      add({
        kind: 'deleted',
        position: entry.position,
        message: `the event sealed at position ${entry.position} is gone`,
      });
      await consumeEntry(entry);
    } else if (!(await sealedAt(event.position))) {
      add({
        kind: 'inserted',
        position: event.position,
        message: `position ${event.position} sits inside sealed history but was never sealed`,
      });
      e = await actual.next();
    } else {
      add({
        kind: 'reordered',
        position: entry.position,
        message: `position ${entry.position} is out of its sealed place in the global order (found position ${event.position} where it was sealed)`,
      });
      await consumeEntry(entry);
      e = await actual.next();
    }
  }
  for (const seal of seals.slice(sealIndex)) {
    if (full()) break;
    add({
      kind: 'seal-mismatch',
      position: seal.headPosition,
      sealSeq: seal.seq,
      message: `seal ${seal.seq} covers ${seal.eventCount} events, but only ${ordinal} sealed entries exist`,
    });
  }
}

/** Records the outcome where /admin shows it. */
export async function recordVerification(
  q: Queryable,
  run: {
    source: 'cli' | 'admin';
    startedBy: string | null;
    startedAt: Date;
  } & ({ report: VerifyReport } | { error: string }),
): Promise<void> {
  const result = 'report' in run ? (run.report.ok ? 'intact' : 'broken') : 'failed';
  const summary = 'report' in run ? run.report.summary : {};
  const problems = 'report' in run ? run.report.problems : [{ kind: 'error', position: null, message: run.error }];
  await q.query(
    `INSERT INTO integrity_verifications (source, started_by, started_at, result, summary, problems)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [run.source, run.startedBy, run.startedAt, result, JSON.stringify(summary), JSON.stringify(problems)],
  );
}

export interface LastVerification {
  source: string;
  startedAt: string;
  finishedAt: string;
  result: 'intact' | 'broken' | 'failed';
  summary: Partial<VerifySummary>;
  problems: Problem[];
}

export async function lastVerification(q: Queryable): Promise<LastVerification | null> {
  const { rows } = await q.query<{
    source: string;
    started_at: Date;
    finished_at: Date;
    result: LastVerification['result'];
    summary: Partial<VerifySummary>;
    problems: Problem[];
  }>(
    'SELECT source, started_at, finished_at, result, summary, problems FROM integrity_verifications ORDER BY finished_at DESC, id DESC LIMIT 1',
  );
  const r = rows[0];
  return r
    ? {
        source: r.source,
        startedAt: r.started_at.toISOString(),
        finishedAt: r.finished_at.toISOString(),
        result: r.result,
        summary: r.summary,
        problems: r.problems,
      }
    : null;
}
