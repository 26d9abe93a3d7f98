/**
 * `npx tsx bench/write-path.ts [--n 2000]`: the write path of issue 14 against plain SQL, as ratios
 * measured in one run on one throwaway PostgreSQL (the machine is shared: compare ratios, not
 * absolute figures). Median of three repetitions each.
 *
 *   1 writer    ledger.handle(RegisterAddress)             vs  one INSERT per row
 *   8 writers   the same, 8 at once                         vs  8 clients INSERTing
 *   batch       store.appendBatch of 100 registrations      vs  one 100-row INSERT
 *   long        ChangeAddress on a 10,000-event address     vs  on a 1-event address (p50 latency)
 *   prisma/pg   the handler's read (loadForCommand's SQL) through Prisma vs plain pg (p50)
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { addressStreamId } from '@/domain/address';
import type { NewEvent } from '@/domain/event-store/event-store';
import { createPrisma } from '@/lib/db';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { createLedger } from '@/lib/ledger';
import { migrate } from '@/lib/migrate';

const { values } = parseArgs({ options: { n: { type: 'string', default: '2000' } }, strict: true });
const N = Number(values.n);
const actor = { id: 'bench', name: 'Benchmark', role: 'operator' as const };
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let seq = 0;
const fields = () => ({ line1: `${++seq} Bench Street`, city: 'Bath', postalCode: '04530', country: 'US' });
const meta = () => {
  const commandId = randomUUID();
  return { commandId, correlationId: commandId, actor, source: 'import' as const };
};

async function rate(n: number, writers: number, one: () => Promise<unknown>): Promise<number> {
  const started = now();
  let left = n;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (left-- > 0) await one();
    }),
  );
  return (n / (now() - started)) * 1000;
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-write-path-'));
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  const owner = new pg.Pool({ connectionString: server.ownerUrl, max: 10 });
  const runtime = new pg.Pool({ connectionString: server.url, max: 10 });
  const prisma = createPrisma(server.url, { max: 10 });
  try {
    await migrate(server.ownerUrl);
    const ledger = createLedger(prisma);
    await owner.query(`CREATE TABLE bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id text NOT NULL, stream_version int NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,
      UNIQUE (stream_id, stream_version))`);
    const insert = () =>
      owner.query('INSERT INTO bench_plain (stream_id, stream_version, data, metadata) VALUES ($1, 1, $2, $3)', [
        `address-${randomUUID()}`,
        JSON.stringify(fields()),
        JSON.stringify({ actor }),
      ]);
    const register = () =>
      ledger.handle({ type: 'RegisterAddress', data: { addressId: randomUUID(), fields: fields() }, metadata: meta() });
    const out: Record<string, { ours: number; raw: number; ratio: number; unit: string }> = {};
    const record = (name: string, unit: string, ours: number[], raw: number[]) => {
      const o = median(ours);
      const r = median(raw);
      out[name] = {
        ours: Math.round(o * 100) / 100,
        raw: Math.round(r * 100) / 100,
        ratio: Math.round((o / r) * 100) / 100,
        unit,
      };
      console.log(
        name.padEnd(28),
        unit.padEnd(10),
        'ours',
        out[name].ours,
        'raw',
        out[name].raw,
        'ratio',
        out[name].ratio,
      );
    };

    // Warm up both paths (plans, pools, JIT).
    await rate(200, 1, insert);
    await rate(200, 1, register);

    for (const writers of [1, 8]) {
      const ours: number[] = [];
      const raw: number[] = [];
      for (let r = 0; r < 3; r++) {
        raw.push(await rate(N, writers, insert));
        ours.push(await rate(N, writers, register));
      }
      record(`command, ${writers} writer(s)`, 'per s', ours, raw);
    }

    {
      const ours: number[] = [];
      const raw: number[] = [];
      const batches = Math.max(5, Math.round(N / 100));
      for (let r = 0; r < 3; r++) {
        let t = now();
        for (let b = 0; b < batches; b++) {
          const rows = Array.from({ length: 100 }, () => [
            `address-${randomUUID()}`,
            JSON.stringify(fields()),
            JSON.stringify({ actor }),
          ]);
          await owner.query(
            `INSERT INTO bench_plain (stream_id, stream_version, data, metadata)
             SELECT s, 1, d::jsonb, m::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(s, d, m)`,
            [rows.map((x) => x[0]), rows.map((x) => x[1]), rows.map((x) => x[2])],
          );
        }
        raw.push(((batches * 100) / (now() - t)) * 1000);
        t = now();
        for (let b = 0; b < batches; b++) {
          await ledger.handleBatch(
            Array.from({ length: 100 }, () => ({
              type: 'RegisterAddress' as const,
              data: { addressId: randomUUID(), fields: fields() },
              metadata: meta(),
            })),
          );
        }
        ours.push(((batches * 100) / (now() - t)) * 1000);
      }
      record('batch of 100 registrations', 'events/s', ours, raw);
    }

    {
      // A 10,000-event address, written in batches of 2,000 (short transactions).
      const longId = randomUUID();
      await ledger.handle({ type: 'RegisterAddress', data: { addressId: longId, fields: fields() }, metadata: meta() });
      for (let v = 1; v < 10_000; v += 2_000) {
        const events: NewEvent[] = Array.from({ length: Math.min(2_000, 10_000 - v) }, (_, i) => ({
          type: 'AddressChanged',
          schemaVersion: 1,
          data: { addressId: longId, changes: { city: `City ${v + i}` } },
          metadata: meta(),
        }));
        await ledger.store.appendBatch([{ streamId: addressStreamId(longId), expectedVersion: v, events }]);
      }
      const freshIds = Array.from({ length: 3 }, () => randomUUID());
      for (const id of freshIds) {
        await ledger.handle({ type: 'RegisterAddress', data: { addressId: id, fields: fields() }, metadata: meta() });
      }
      const change = (addressId: string, i: number) =>
        ledger.handle({ type: 'ChangeAddress', data: { addressId, changes: { city: `Run ${i}` } }, metadata: meta() });
      const latency = async (addressId: string, i: number) => {
        const t = now();
        await change(addressId, i);
        return now() - t;
      };
      // The first command on the long stream folds every event and leaves a snapshot.
      const firstLong = await latency(longId, 0);
      console.log('first command on the 10,000-event address (no snapshot yet):', firstLong.toFixed(1), 'ms');
      const long: number[] = [];
      const short: number[] = [];
      for (let r = 0; r < 3; r++) {
        const l: number[] = [];
        const s: number[] = [];
        for (let i = 1; i <= 60; i++) {
          l.push(await latency(longId, i + r * 100));
          s.push(await latency(freshIds[r]!, i + r * 100));
        }
        long.push(median(l));
        short.push(median(s));
      }
      // A latency: lower is better, so the "ratio" here is long ÷ fresh (goal ≤ 1.5).
      record('command p50, 10k vs fresh', 'ms', long, short);

      // Prisma vs plain pg for the handler's one read (same SQL, same role, same stream).
      const sql = `WITH s AS (SELECT version, state FROM stream_snapshots WHERE stream_id = $1 AND kind = 'address' AND shape = 1)
        SELECT (SELECT json_build_object('result', pc.result) FROM processed_commands pc WHERE pc.command_id = $2) AS command,
          (SELECT json_build_object('version', s.version, 'state', s.state) FROM s) AS snapshot,
          coalesce((SELECT json_agg(e ORDER BY e.stream_version) FROM (SELECT position::text AS position, stream_id, stream_version,
            event_id::text AS event_id, type, schema_version, data, metadata, recorded_at FROM events
            WHERE stream_id = $1 AND stream_version > coalesce((SELECT version FROM s), 0) ORDER BY stream_version LIMIT 10000) e), '[]'::json) AS events`;
      const streamId = addressStreamId(freshIds[0]!);
      const viaPg: number[] = [];
      const viaPrisma: number[] = [];
      for (let r = 0; r < 3; r++) {
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < 300; i++) {
          let t = now();
          await runtime.query({ name: 'load-for-command', text: sql, values: [streamId, randomUUID()] });
          a.push(now() - t);
          t = now();
          await prisma.$queryRawUnsafe(sql, streamId, randomUUID());
          b.push(now() - t);
        }
        viaPg.push(median(a));
        viaPrisma.push(median(b));
      }
      record('read p50, prisma vs pg', 'ms', viaPrisma, viaPg);
    }
    console.log(JSON.stringify(out));
  } finally {
    await Promise.allSettled([prisma.$disconnect(), owner.end(), runtime.end()]);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
