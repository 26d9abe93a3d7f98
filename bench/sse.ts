/**
 * `npm run bench`, live-feed part: how many followers of `GET /api/events/stream` one process
 * serves. The route runs in this process (as in its integration test), with an auditor's API
 * token; N streams open at the head of the feed, then commands go in at a steady 20 a second for
 * 5 s. Each stream's reader notes when each new address reached it; the delivery latency is
 * commit → received, over every (follower, event) pair, and every follower must receive every
 * event. The baseline is the same run with one follower: the ratio is what the other N - 1 cost.
 *
 * The readers run in the same process and share its CPU with the route, so the figures are a
 * lower bound for a server whose clients are elsewhere.
 */
import { randomUUID } from 'node:crypto';
import { createApiToken } from '@/lib/auth/tokens';
import { createUser } from '@/lib/auth/users';
import type { BenchContext } from './context';
import { type FigureInput, log, percentile } from './measure';
import { registerCommand } from './workload';
import type { Scenario } from './writes';

const RATE = 20;
/** Seconds of load per follower count (--quick: 2, so the whole quick run stays under two minutes). */
const SECONDS = 5;
const QUICK_SECONDS = 2;
/** The latency a follower is "served" within. */
const SERVED_P95_MS = 1_000;

interface Follower {
  received: Map<string, number>;
  close(): Promise<void>;
}

type StreamRoute = typeof import('@/app/api/events/stream/route');

async function openFollower(GET: StreamRoute['GET'], token: string, after: string): Promise<Follower> {
  const abort = new AbortController();
  const response = await GET(
    new Request(`http://localhost/api/events/stream?after=${encodeURIComponent(after)}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    }),
    { params: Promise.resolve({}) },
  );
  if (response.status !== 200) throw new Error(`the stream answered ${response.status}: ${await response.text()}`);
  const received = new Map<string, number>();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      rest += value;
      const cut = rest.lastIndexOf('\n\n');
      if (cut < 0) continue;
      const now = performance.now();
      for (const m of rest.slice(0, cut).matchAll(/"addressId":"([0-9a-f-]{36})"/g)) received.set(m[1]!, now);
      rest = rest.slice(cut + 2);
    }
  })();
  return {
    received,
    async close() {
      abort.abort();
      await reader.cancel().catch(() => {});
      await pump;
    },
  };
}

/** N followers, the steady load, and every (follower, event) delivery latency. */
async function deliveries(ctx: BenchContext, n: number, token: string) {
  const seconds = ctx.quick ? QUICK_SECONDS : SECONDS;
  const { GET } = await import('@/app/api/events/stream/route');
  const head = await headCursor(ctx);
  const followers: Follower[] = [];
  for (let i = 0; i < n; i++) followers.push(await openFollower(GET, token, head));
  try {
    const committed = new Map<string, number>();
    const started = performance.now();
    const total = RATE * seconds;
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const addressId = randomUUID();
      await ctx.ledger.handle(registerCommand(addressId));
      committed.set(addressId, performance.now());
    }
    // Every follower has every event, or 30 s have passed (then the missing ones are reported).
    const deadline = performance.now() + 30_000;
    while (
      performance.now() < deadline &&
      followers.some((f) => [...committed.keys()].some((id) => !f.received.has(id)))
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const lags: number[] = [];
    let missing = 0;
    for (const f of followers) {
      for (const [id, at] of committed) {
        const got = f.received.get(id);
        if (got === undefined) missing++;
        else lags.push(got - at);
      }
    }
    return { lags, missing, events: total };
  } finally {
    await Promise.all(followers.map((f) => f.close()));
  }
}

/** The cursor of the newest visible event, so the followers start at the head. */
async function headCursor(ctx: BenchContext): Promise<string> {
  const { rows } = await ctx.ownerPool.query<{ c: string | null }>(
    `SELECT transaction_id::text || '-' || position::text AS c FROM events
      WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY transaction_id DESC, position DESC LIMIT 1`,
  );
  return rows[0]?.c ?? '';
}

const followersScenario: Scenario = {
  name: 'live feed followers',
  async run(ctx) {
    // The route reads DATABASE_URL (its ledger) and caps streams per caller; the bench is one caller.
    process.env.DATABASE_URL = ctx.server.url;
    process.env.SSE_MAX_STREAMS_PER_CALLER = '100000';
    // The app refuses every caller until its first admin exists.
    await createUser(ctx.prisma, {
      email: 'bench-admin@example.test',
      name: 'Bench Admin',
      role: 'admin',
      password: randomUUID(),
    }).catch((error: unknown) => log.debug({ err: String(error) }, 'bench admin exists'));
    const { secret } = await createApiToken(ctx.prisma, { name: 'bench-sse', role: 'auditor' }, null);
    const counts = ctx.quick ? [100, 500] : [100, 500, 1_000, 2_000];
    const one = await deliveries(ctx, 1, secret);
    const figures: FigureInput[] = [];
    let served = 0;
    for (const n of counts) {
      const run = await deliveries(ctx, n, secret);
      const p95 = percentile(run.lags, 95);
      log.info({ followers: n, p50: percentile(run.lags, 50), p95, missing: run.missing }, 'followers measured');
      if (run.missing === 0 && p95 <= SERVED_P95_MS) served = n;
      figures.push({
        name: `delivery commit → follower, ${n.toLocaleString('en-US')} followers, p95`,
        unit: 'ms',
        better: 'lower',
        ours: [p95],
        baselines: { 'the same, 1 follower': [percentile(one.lags, 95)] },
        note:
          `${run.events} events at ${RATE}/s; p50 ${percentile(run.lags, 50).toFixed(1)} ms, p99 ${percentile(run.lags, 99).toFixed(1)} ms; ` +
          `${run.missing} of ${(run.events * n).toLocaleString('en-US')} deliveries missing after 30 s`,
      });
      if (run.missing > 0 || p95 > SERVED_P95_MS) break;
    }
    ctx.notes.push(
      `live feed: one process served ${served.toLocaleString('en-US')} followers of /api/events/stream with every event delivered and p95 ≤ ${SERVED_P95_MS} ms (largest count tried: ${counts.at(-1)!.toLocaleString('en-US')}; readers in the same process)`,
    );
    return figures;
  },
};

export const sseScenarios: Scenario[] = [followersScenario];
