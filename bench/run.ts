/**
 * `npm run bench`: what the event-sourcing machinery costs, as ratios against a plain-SQL
 * baseline measured in the same run on the same throwaway PostgreSQL (absolute numbers depend on
 * the machine; the ratios are what to compare between commits).
 *
 *   append      RegisterAddress through the command handler (load, decide, idempotency record,
 *               expected-version check, NOTIFY)   vs   one plain INSERT per address
 *   feed        the gap-safe global order, pages of 500      vs   keyset paging by position
 *   projection  the projector catching up on every event     vs   reading the same events
 *   search      the Postgres search (typos, prefixes, facets) vs   ILIKE on address_view
 *   audit       the audit page per filter and the CSV export on 200,000 events (bench/audit.ts)
 *
 * Data: the shipped OpenStreetMap sample (projections/search/fixtures, © OpenStreetMap
 * contributors, ODbL). BENCH_ADDRESSES caps how many are registered (default: all 2,764).
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { createPrisma } from '@/lib/db';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { createLedger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { readSample, sampleAddressFields } from '@/projections/search/fixtures/sample';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import { waitForProjection } from '@/projections/testing';
import { startProjector } from '@/projections/worker';
import { benchAudit } from './audit';

interface Result {
  name: string;
  unit: string;
  measured: number;
  baseline: number;
}

const results: Result[] = [];
const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9;

function progress(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    { format: ` ${label.padEnd(22)} |{bar}| {value}/{total}`, stream: process.stderr, noTTYOutput: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-bench-'));
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  const pool = new pg.Pool({ connectionString: server.url, max: 8 });
  const prisma = createPrisma(server.url, { max: 8 });
  try {
    await migrate(server.url);
    const rows = readSample().slice(0, Number(process.env.BENCH_ADDRESSES ?? Number.POSITIVE_INFINITY));
    const addresses = rows.map(sampleAddressFields);
    const ledger = createLedger(prisma);
    const actor = { id: 'bench', name: 'Benchmark', role: 'operator' as const };

    // append ----------------------------------------------------------------------------------
    await pool.query(`CREATE TABLE bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`);
    let bar = progress('append: baseline', addresses.length);
    let t = process.hrtime.bigint();
    for (const [i, fields] of addresses.entries()) {
      await pool.query('INSERT INTO bench_plain (stream_id, data, metadata) VALUES ($1, $2, $3)', [
        `address-${randomUUID()}`,
        JSON.stringify(fields),
        JSON.stringify({ actor }),
      ]);
      bar.update(i + 1);
    }
    bar.stop();
    const appendBaseline = addresses.length / seconds(t);

    bar = progress('append: handler', addresses.length);
    t = process.hrtime.bigint();
    for (const [i, fields] of addresses.entries()) {
      const commandId = randomUUID();
      await ledger.handle({
        type: 'RegisterAddress',
        data: { addressId: randomUUID(), fields },
        metadata: { commandId, correlationId: commandId, actor, source: 'import' },
      });
      bar.update(i + 1);
    }
    bar.stop();
    results.push({
      name: 'append (sequential)',
      unit: 'commands/s',
      measured: addresses.length / seconds(t),
      baseline: appendBaseline,
    });

    // feed ------------------------------------------------------------------------------------
    t = process.hrtime.bigint();
    let plainRead = 0;
    for (let after = 0; ; ) {
      const page = await pool.query<{ position: string }>(
        'SELECT position, stream_id, stream_version, type, data, metadata, recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT 500',
        [after],
      );
      if (page.rows.length === 0) break;
      plainRead += page.rows.length;
      after = Number(page.rows.at(-1)!.position);
    }
    const feedBaseline = plainRead / seconds(t);
    t = process.hrtime.bigint();
    let feedRead = 0;
    for (let after = ''; ; ) {
      const page = await ledger.store.readAll({ after, limit: 500 });
      if (page.events.length === 0) break;
      feedRead += page.events.length;
      after = page.next;
    }
    results.push({
      name: 'global feed read',
      unit: 'events/s',
      measured: feedRead / seconds(t),
      baseline: feedBaseline,
    });

    // projection ------------------------------------------------------------------------------
    const index = createPostgresSearchIndex({ connectionString: server.url });
    t = process.hrtime.bigint();
    const projector = await startProjector({ databaseUrl: server.url, searchIndex: index, log: logger });
    await waitForProjection(pool, 'address_view', { timeoutMs: 600_000 });
    await waitForProjection(pool, 'address_search', { timeoutMs: 600_000 });
    const projected = feedRead / seconds(t);
    await projector.stop();
    results.push({ name: 'projection catch-up', unit: 'events/s', measured: projected, baseline: feedBaseline });

    // search ----------------------------------------------------------------------------------
    const queries = rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / 200)) === 0).slice(0, 200);
    // Typed as a person would: house number and the street's first word, abbreviated type.
    const typed = queries.map((r) => `${r.house_number} ${r.street.split(' ')[0]}`);
    t = process.hrtime.bigint();
    for (const q of typed) {
      await pool.query('SELECT * FROM address_view WHERE line1 ILIKE $1 ORDER BY updated_at DESC LIMIT 20', [`%${q}%`]);
    }
    const searchBaseline = typed.length / seconds(t);
    t = process.hrtime.bigint();
    for (const q of typed) await index.search({ q, sort: 'relevance', page: 1, perPage: 20 });
    results.push({ name: 'search', unit: 'queries/s', measured: typed.length / seconds(t), baseline: searchBaseline });
    await index.close();

    // audit -----------------------------------------------------------------------------------
    const audit = await benchAudit(pool, prisma);
    results.push(...audit.results);

    console.log(
      `\nAddress Ledger benchmark — ${addresses.length} addresses, ${feedRead} events (audit: ${audit.events} events)\n`,
    );
    console.table(
      results.map((r) => ({
        what: r.name,
        unit: r.unit,
        measured: Math.round(r.measured),
        baseline: Math.round(r.baseline),
        ratio: Number((r.measured / r.baseline).toFixed(2)),
      })),
    );
    console.log('\nA ratio below 1 is the price of the guarantee over plain SQL; compare ratios between commits.');
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
