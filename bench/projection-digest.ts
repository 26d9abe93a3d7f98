/**
 * What the completeness digest costs (projections/README.md "Completeness"): address_view catching
 * up on every event of a database from scratch, with the digest (and its checker) on and off, in
 * alternating runs. `npm run bench` runs it in its projection group (bench/projection.ts), or on
 * its own: `npx tsx bench/projection-digest.ts` (embedded PostgreSQL, the shipped sample
 * registered and changed once: about 5,500 events; BENCH_ADDRESSES limits the rows).
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPrisma } from '@/lib/db';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { createLedger } from '@/lib/ledger';
import { type Logger, logger as rootLogger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { setCheckpoint } from '@/projections/checkpoints';
import { readSample, sampleAddressFields } from '@/projections/search/fixtures/sample';
import { waitForProjection } from '@/projections/testing';
import { startProjector } from '@/projections/worker';

export interface DigestCost {
  events: number;
  /** Best of the runs, events/s. */
  on: number;
  off: number;
  /** 1 - on / off: the share of throughput the digest costs. */
  cost: number;
}

/** Replays address_view from the first event `rounds` times each way on the runtime role's `databaseUrl`. */
export async function benchProjectionDigest(databaseUrl: string, log: Logger, rounds = 2): Promise<DigestCost> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  try {
    const events = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
    const rate = { on: 0, off: 0 };
    for (let round = 0; round < rounds; round++) {
      for (const digest of [false, true]) {
        await pool.query('DELETE FROM address_view');
        await pool.query(`DELETE FROM projection_digests WHERE projection = 'address_view'`);
        await setCheckpoint(pool, 'address_view', '0-0');
        const started = process.hrtime.bigint();
        const projector = await startProjector({
          databaseUrl,
          projections: ['address_view'],
          digest,
          completeness: { checkMs: 1_000, fullEveryMs: 600_000 },
          log,
        });
        await waitForProjection(pool, 'address_view', { timeoutMs: 600_000 });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        await projector.stop();
        const key = digest ? 'on' : 'off';
        rate[key] = Math.max(rate[key], events / seconds);
      }
    }
    return { events, ...rate, cost: 1 - rate.on / rate.off };
  } finally {
    await pool.end();
  }
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-digest-bench-'));
  // Embedded PostgreSQL runs as `postgres` when we are root: it must be able to enter the directory.
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  const prisma = createPrisma(server.url, { max: 4 });
  try {
    await migrate(server.ownerUrl);
    const ledger = createLedger(prisma);
    const actor = { id: 'bench', name: 'Benchmark', role: 'operator' as const };
    const metadata = () => {
      const commandId = randomUUID();
      return { commandId, correlationId: commandId, actor, source: 'import' as const };
    };
    const rows = readSample().slice(0, Number(process.env.BENCH_ADDRESSES ?? Number.POSITIVE_INFINITY));
    for (const fields of rows.map(sampleAddressFields)) {
      const addressId = randomUUID();
      await ledger.handle({ type: 'RegisterAddress', data: { addressId, fields }, metadata: metadata() });
      await ledger.handle({
        type: 'ChangeAddress',
        data: { addressId, changes: { owner: `bench-${addressId.slice(0, 8)}` } },
        metadata: metadata(),
      });
    }
    const result = await benchProjectionDigest(server.url, rootLogger.child({ component: 'bench' }, { level: 'warn' }));
    console.log(
      `projection catch-up: ${Math.round(result.off)} events/s without the digest, ${Math.round(result.on)} with it ` +
        `(${result.events} events; the digest costs ${(result.cost * 100).toFixed(1)}%)`,
    );
  } finally {
    await prisma.$disconnect();
    await server.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
