/**
 * `npm run bench`, read-side part, on every event the groups before it appended (with the full
 * file: the import's 131,650, the writes' and the audit's 200,000 seeded events):
 *
 *   feed read   ledger.store.readAll (gap-safe global order, pages of 500)   vs   keyset paging
 *               of `events` by position
 *   catch-up    startProjector from an empty read side until address_view and address_search
 *               reach the head   vs   a raw batched upsert of the same final rows (one run: a
 *               catch-up from zero happens once per database)
 *   rebuild     rebuildProjections (replay into fresh copies, verify, swap)   vs   the same raw
 *               batched upsert
 *   live lag    commit → searchable (the address_search checkpoint covers the command's
 *               position, as its NOTIFY tells) under a steady open-loop load of half the measured
 *               8-writer command rate for 60 s (10 s with --quick), p50/p95/p99   vs   INSERT +
 *               pg_notify → a LISTENing client, at the same rate for a quarter of the time (one
 *               run: the percentiles are over every command of it)
 *
 * The raw upsert writes the final rows of both read models (read beforehand) in batches of 1,000
 * into copies of their tables (same indexes); its rate is the events the projection replays ÷
 * the upsert's time, so the ratio compares the times for the same end state.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { addressStreamId } from '@/domain/address';
import { PROJECTED_CHANNEL } from '@/projections/checkpoints';
import { rebuildProjections } from '@/projections/rebuild';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import { waitForProjection } from '@/projections/testing';
import { startProjector } from '@/projections/worker';
import type { BenchContext } from './context';

/** The projector and rebuild log every batch at info; the bench's progress bars say as much. */
const quiet = log.child({ component: 'projector' }, { level: 'warn' });

import { type FigureInput, inParallel, log, percentile, progress, repeat, seconds, time } from './measure';
import { benchProjectionDigest } from './projection-digest';
import { registerCommand } from './workload';
import type { Scenario } from './writes';

const eventCount = async (pool: pg.Pool) =>
  (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;

/** Starts the projector, waits until both projections reach the head; stop() when done. */
export async function startCaughtUpProjector(ctx: BenchContext) {
  const searchIndex = createPostgresSearchIndex({ connectionString: ctx.server.url });
  const projector = await startProjector({ databaseUrl: ctx.server.url, searchIndex, log: quiet });
  const bar = progress('projector: catch-up', await eventCount(ctx.ownerPool));
  const timer = setInterval(async () => {
    const { rows } = await ctx.ownerPool
      .query<{ n: string }>(`SELECT min(events_processed)::text AS n FROM projection_checkpoints`)
      .catch(() => ({ rows: [] as { n: string }[] }));
    if (rows[0]) bar.update(Number(rows[0].n));
  }, 1_000);
  try {
    await waitForProjection(ctx.ownerPool, 'address_view', { timeoutMs: 3_600_000 });
    await waitForProjection(ctx.ownerPool, 'address_search', { timeoutMs: 3_600_000 });
  } finally {
    clearInterval(timer);
    bar.stop();
  }
  return {
    async stop() {
      await projector.stop();
      await searchIndex.close();
    },
  };
}

const VIEW_COLUMNS = `address_id, stream_id, version, status, line1, line2, city, region, postal_code, country, owner,
  archived_reason, registered_at, updated_at, last_event_type, last_position, last_actor_id, last_actor_name, last_actor_role`;
const SEARCH_COLUMNS =
  'id, version, status, city, region, postal_code, country, updated_at, doc, search_primary, search_secondary';

/** The final rows of both read models, as JSON batches of 1,000, and a function upserting them all. */
async function rawUpsert(pool: pg.Pool) {
  await pool.query('CREATE TABLE IF NOT EXISTS bench_view (LIKE address_view INCLUDING ALL)');
  await pool.query('CREATE TABLE IF NOT EXISTS bench_search (LIKE address_search INCLUDING ALL)');
  const batches = async (table: string, key: string, columns: string) => {
    const out: string[] = [];
    for (let after = ''; ; ) {
      const { rows } = await pool.query<{ k: string; batch: string }>(
        `SELECT max(${key}) AS k, json_agg(t)::text AS batch
           FROM (SELECT ${columns} FROM ${table} WHERE ${key} > $1 ORDER BY ${key} LIMIT 1000) t`,
        [after],
      );
      if (!rows[0]?.k) return out;
      out.push(rows[0].batch);
      after = rows[0].k;
    }
  };
  const view = await batches('address_view', 'address_id', VIEW_COLUMNS);
  const search = await batches('address_search', 'id', SEARCH_COLUMNS);
  const upsert = (table: string, key: string, columns: string, batch: string) => {
    const set = columns
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== key)
      .map((c) => `${c} = EXCLUDED.${c}`);
    return pool.query(
      `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::${table}, $1::json)
       ON CONFLICT (${key}) DO UPDATE SET ${set.join(', ')} WHERE ${table}.version < EXCLUDED.version`,
      [batch],
    );
  };
  return async () => {
    await pool.query('TRUNCATE bench_view, bench_search');
    return time(async () => {
      for (const b of view) await upsert('bench_view', 'address_id', VIEW_COLUMNS, b);
      for (const b of search) await upsert('bench_search', 'id', SEARCH_COLUMNS, b);
    });
  };
}

const feedRead: Scenario = {
  name: 'feed read',
  async run(ctx) {
    const keyset = async () => {
      let n = 0;
      const s = await time(async () => {
        for (let after = 0; ; ) {
          const page = await ctx.ownerPool.query<{ position: string }>(
            'SELECT position, stream_id, stream_version, type, data, metadata, recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT 500',
            [after],
          );
          if (page.rows.length === 0) break;
          n += page.rows.length;
          after = Number(page.rows.at(-1)!.position);
        }
      });
      return n / s;
    };
    const feed = async () => {
      let n = 0;
      const s = await time(async () => {
        for (let after = ''; ; ) {
          const page = await ctx.ledger.store.readAll({ after, limit: 500 });
          if (page.events.length === 0) break;
          n += page.events.length;
          after = page.next;
        }
      });
      return n / s;
    };
    const { ours, ...baselines } = await repeat('feed read', { ours: feed, 'keyset SELECT by position': keyset });
    return [{ name: 'global feed read (pages of 500)', unit: 'events/s', better: 'higher', ours, baselines }];
  },
};

const catchUpAndRebuild: Scenario = {
  name: 'catch-up and rebuild',
  async run(ctx) {
    const events = await eventCount(ctx.ownerPool);
    ctx.notes.push(`projection: catch-up and rebuild of ${events.toLocaleString('en-US')} events`);
    const t = process.hrtime.bigint();
    const projector = await startCaughtUpProjector(ctx);
    const catchUp = events / seconds(t);
    await projector.stop();
    const upsertOnce = await rawUpsert(ctx.ownerPool);
    const upsert = [events / (await upsertOnce())];
    const searchIndex = createPostgresSearchIndex({ connectionString: ctx.server.url });
    try {
      const runs = await repeat('rebuild', {
        ours: async (run) => {
          const bar = progress(`rebuild: run ${run + 1}`, events);
          const s = await time(() =>
            rebuildProjections({
              databaseUrl: ctx.server.url,
              searchIndex,
              log: quiet,
              onProgress: (p) => bar.update(Math.min(p.processed, events)),
            }),
          );
          bar.stop();
          return events / s;
        },
        'raw batched upsert of the final rows': async () => events / (await upsertOnce()),
      });
      upsert.push(...runs['raw batched upsert of the final rows']);
      return [
        {
          name: 'projection catch-up from empty (both read models)',
          unit: 'events/s',
          better: 'higher',
          ours: [catchUp],
          baselines: { 'raw batched upsert of the final rows': upsert },
        },
        {
          name: 'full rebuild (both read models)',
          unit: 'events/s',
          better: 'higher',
          ours: runs.ours,
          baselines: { 'raw batched upsert of the final rows': runs['raw batched upsert of the final rows'] },
          note: 'goal: ratio ≥ 0.5',
        },
      ];
    } finally {
      await searchIndex.close();
    }
  },
};

/**
 * Fires `op` at `perSecond`, open loop (a slow answer does not slow the schedule down), for
 * `durationMs`; each `op` resolves with a key the caller matches against what it is told later.
 */
async function steadyLoad(perSecond: number, durationMs: number, label: string, op: () => Promise<void>) {
  const bar = progress(label, Math.round((perSecond * durationMs) / 1000));
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; ; i++) {
    const due = start + (i * 1000) / perSecond;
    if (due - start >= durationMs) break;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(op());
    bar.update(i + 1);
  }
  await Promise.all(inFlight);
  bar.stop();
}

/** Times at which each position became visible to `listen`'s callback. */
class VisibilityClock {
  private readonly waiting = new Map<bigint, { committedAt: number }>();
  private head = -1n;
  readonly lags: number[] = [];

  /** The projection (or the listener) has everything up to `position`. */
  reached(position: bigint) {
    if (position <= this.head) return;
    this.head = position;
    const now = performance.now();
    for (const [p, { committedAt }] of this.waiting) {
      if (p <= position) {
        this.lags.push(now - committedAt);
        this.waiting.delete(p);
      }
    }
  }

  committed(position: bigint) {
    const now = performance.now();
    if (position <= this.head) this.lags.push(0);
    else this.waiting.set(position, { committedAt: now });
  }

  get pending() {
    return this.waiting.size;
  }
}

async function drain(clock: VisibilityClock, what: string) {
  const deadline = performance.now() + 120_000;
  while (clock.pending > 0) {
    if (performance.now() > deadline) throw new Error(`live lag: ${clock.pending} ${what} never became visible`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The 8-writer command rate the writes group measured, or a short measurement of it. */
async function maxCommandRate(ctx: BenchContext): Promise<number> {
  if (ctx.measured.commandsPerSecond8) return ctx.measured.commandsPerSecond8;
  const commands = Array.from({ length: 400 }, () => registerCommand());
  const s = await time(() => inParallel(commands, 8, async (c) => void (await ctx.ledger.handle(c))));
  return commands.length / s;
}

const liveLag: Scenario = {
  name: 'live lag',
  async run(ctx) {
    const durationMs = ctx.quick ? 10_000 : 60_000;
    const rate = (await maxCommandRate(ctx)) / 2;
    ctx.notes.push(
      `live lag: ${Math.round(rate)} commands/s (half the measured 8-writer maximum) for ${durationMs / 1000} s`,
    );
    const projector = await startCaughtUpProjector(ctx);
    const listener = new pg.Client({ connectionString: ctx.server.ownerUrl });
    await listener.connect();
    try {
      // ours: the address_search checkpoint, read whenever its projector says it moved.
      const ours = new VisibilityClock();
      const raw = new VisibilityClock();
      listener.on('notification', async (n) => {
        if (n.channel === PROJECTED_CHANNEL && n.payload === 'address_search') {
          const { rows } = await ctx.ownerPool.query<{ position: string }>(
            `SELECT position::text FROM projection_checkpoints WHERE name = 'address_search'`,
          );
          ours.reached(BigInt(rows[0]!.position));
        } else if (n.channel === 'bench_lag') {
          raw.reached(BigInt(n.payload!));
        }
      });
      await listener.query(`LISTEN ${PROJECTED_CHANNEL}`);
      await steadyLoad(rate, durationMs, 'live lag: commands', async () => {
        const result = await ctx.ledger.handle(registerCommand());
        ours.committed(BigInt(result.position!));
      });
      await drain(ours, 'commands');

      // baseline: the same rate of plain INSERT + pg_notify, received by a LISTENing client.
      await listener.query('LISTEN bench_lag');
      await ctx.ownerPool.query(
        'CREATE TABLE IF NOT EXISTS bench_lag (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data jsonb NOT NULL)',
      );
      // The baseline's percentiles settle in far fewer commands (it has no projector to warm up):
      // a quarter of the time, so --quick stays under two minutes.
      await steadyLoad(rate, durationMs / 4, 'live lag: INSERT + NOTIFY', async () => {
        const { rows } = await ctx.ownerPool.query<{ id: string }>(
          `WITH i AS (INSERT INTO bench_lag (data) VALUES ($1) RETURNING id)
           SELECT id::text, pg_notify('bench_lag', id::text) FROM i`,
          [JSON.stringify({ streamId: addressStreamId(randomUUID()) })],
        );
        raw.committed(BigInt(rows[0]!.id));
      });
      await drain(raw, 'notifications');
      log.info({ commands: ours.lags.length, raw: raw.lags.length }, 'live lag measured');
      const lagFigure = (p: number): FigureInput => ({
        name: `live lag commit → searchable, p${p}`,
        unit: 'ms',
        better: 'lower',
        ours: [percentile(ours.lags, p)],
        baselines: { 'INSERT + NOTIFY → LISTEN': [percentile(raw.lags, p)] },
        ...(p === 95 ? { note: 'goal: ≤ 1,000 ms' } : {}),
      });
      return [lagFigure(50), lagFigure(95), lagFigure(99)];
    } finally {
      await listener.end();
      await projector.stop();
    }
  },
};

/**
 * What the completeness digest (projections/completeness.ts) costs the projector: address_view
 * catching up from the first event with the digest and its checker on, against off, in
 * alternating runs (bench/projection-digest.ts; the goal is a cost of at most 10%).
 */
const digestCost: Scenario = {
  name: 'completeness digest',
  async run(ctx) {
    const cost = await benchProjectionDigest(ctx.server.url, log, ctx.quick ? 1 : 2);
    return [
      {
        name: `address_view catch-up with the digest (${cost.events.toLocaleString('en-US')} events)`,
        unit: 'events/s',
        better: 'higher',
        ours: [cost.on],
        baselines: { 'digest off': [cost.off] },
        note: 'best of the runs each way',
      },
    ];
  },
};

export const projectionScenarios: Scenario[] = [feedRead, catchUpAndRebuild, liveLag, digestCost];
