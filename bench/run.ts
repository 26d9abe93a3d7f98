/**
 * `npm run bench`: what the event-sourcing machinery costs, as ratios against a plain-SQL
 * baseline measured in the same run on the same throwaway PostgreSQL (absolute numbers depend on
 * the machine; the ratios are what to compare between commits).
 *
 *   append      RegisterAddress through the command handler (load, decide, idempotency record,
 *               expected-version check, NOTIFY)   vs   one plain INSERT per address
 *   hash chain  append_events with each event's chained SHA-256 (tamper evidence)   vs   the
 *               function as it was before the chain, on a copy of the table without the hash
 *               (goal: a ratio of at least 0.85)
 *   feed        the gap-safe global order, pages of 500      vs   keyset paging by position
 *   projection  the projector catching up on every event     vs   reading the same events
 *   search      the Postgres search (typos, prefixes, facets) vs   ILIKE on address_view
 *   import      `npm run import` of a CSV (bench/import.ts)   vs   COPY of the same file
 *   audit       the audit page per filter and the CSV export on 200,000 events (bench/audit.ts)
 *
 * Data: the shipped OpenStreetMap sample (projections/search/fixtures, © OpenStreetMap
 * contributors, ODbL). BENCH_ADDRESSES caps how many are registered (default: all 2,764).
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
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
import { benchImport, importBenchFile } from './import';

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
  // No options yet: a typo must fail, not run a 20-second benchmark with the defaults.
  parseArgs({ options: {}, strict: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-bench-'));
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  // Baselines are plain SQL in tables of their own, which only the owner may create; the ledger,
  // the projector and search run on the runtime role, as in production.
  const pool = new pg.Pool({ connectionString: server.ownerUrl, max: 8 });
  const prisma = createPrisma(server.url, { max: 8 });
  try {
    await migrate(server.ownerUrl);
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

    // hash chain ------------------------------------------------------------------------------
    results.push(await benchHashChain(pool, addresses, actor));

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

    // import (last: its rows would change what the scenarios above measure) --------------------
    const { file, which } = importBenchFile();
    console.error(` import: ${path.relative(process.cwd(), file) || file} (${which})`);
    const imported = await benchImport(pool, ledger, file, server.url);
    results.push({
      name: 'import (CSV, batched)',
      unit: 'rows/s',
      measured: imported.importRate,
      baseline: imported.copyRate,
    });

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
    console.log(
      `\nimport: ${imported.summary.rows} rows of ${which} (${imported.summary.registered} registered, ` +
        `${imported.summary.duplicates} duplicates, ${imported.summary.rejected} rejected); baseline: COPY of the same ${imported.copied} rows into a plain table;\n` +
        `the projector ran during the import; after its last batch, address_view and search reached the head in ${imported.drainSeconds.toFixed(1)} s`,
    );
    console.log('\nA ratio below 1 is the price of the guarantee over plain SQL; compare ratios between commits.');
  } finally {
    await prisma.$disconnect();
    await pool.end();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * append_events as it is against append_events as it was before the hash chain (the original
 * migration's text, renamed, writing to a copy of `events` without the hash column: same
 * indexes, identity and defaults). Both run in the same database, in alternating blocks, so drift
 * in the machine's speed hits both alike.
 */
async function benchHashChain(
  pool: pg.Pool,
  addresses: ReturnType<typeof sampleAddressFields>[],
  actor: { id: string; name: string; role: string },
): Promise<Result> {
  const original = await readFile('prisma/migrations/20261126030000_append_function/migration.sql', 'utf8');
  await pool.query('CREATE TABLE bench_events_before_chain (LIKE events INCLUDING ALL)');
  await pool.query('ALTER TABLE bench_events_before_chain DROP COLUMN hash');
  await pool.query(
    original
      .replace('CREATE FUNCTION "append_events"(', 'CREATE FUNCTION "append_events_before_chain"(')
      .replaceAll('FROM events e', 'FROM bench_events_before_chain e')
      .replace('INSERT INTO events (', 'INSERT INTO bench_events_before_chain (')
      .replace('RETURNING events.position', 'RETURNING bench_events_before_chain.position'),
  );
  const seconds = { chained: 0, before: 0 };
  const append = async (fn: 'append_events' | 'append_events_before_chain', fields: unknown) => {
    const commandId = randomUUID();
    const payload = [
      {
        eventId: randomUUID(),
        type: 'AddressRegistered',
        schemaVersion: 2,
        data: { addressId: randomUUID(), ...(fields as object) },
        metadata: { actor, commandId, correlationId: commandId, source: 'import' },
      },
    ];
    await pool.query(`SELECT outcome FROM ${fn}($1, 0, $2::jsonb, $3, 'bench', 'bench_channel')`, [
      `address-${randomUUID()}`,
      JSON.stringify(payload),
      commandId,
    ]);
  };
  const bar = progress('append: hash chain', addresses.length * 2);
  const block = 100;
  for (let i = 0, done = 0; i < addresses.length; i += block) {
    const slice = addresses.slice(i, i + block);
    // Alternate which variant goes first, so neither always runs on a warmer cache.
    const order = (i / block) % 2 === 0 ? (['chained', 'before'] as const) : (['before', 'chained'] as const);
    for (const variant of order) {
      const t = process.hrtime.bigint();
      for (const fields of slice)
        await append(variant === 'chained' ? 'append_events' : 'append_events_before_chain', fields);
      seconds[variant] += Number(process.hrtime.bigint() - t) / 1e9;
      done += slice.length;
      bar.update(done);
    }
  }
  bar.stop();
  return {
    name: 'append_events: hash chain vs before',
    unit: 'appends/s',
    measured: addresses.length / seconds.chained,
    baseline: addresses.length / seconds.before,
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
