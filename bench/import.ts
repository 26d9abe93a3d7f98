/**
 * `npm run bench`, import part: `npm run import`'s code path (stream, validate, decide,
 * append_events_batch through the ledger's handleBatch) against a raw `COPY` of the same file into
 * a plain table of text columns, in the same run.
 *
 * File: BENCH_IMPORT_FILE, else the full Maine / New Hampshire file (131,650 rows) in the shared
 * data folder beside the checkout (or beside the folder of worktrees), else the shipped sample;
 * the output says which. With --quick, the file's first QUICK_ROWS rows.
 *
 * The first runs import into scratch databases (migrated like the real one, dropped after); the
 * last run (with --import-once the only one) imports into the bench's database, where the later groups (projection, search) find
 * the file's addresses.
 */
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { compareCursors, decodeCursor } from '@/domain/event-store/cursor';
import { ensureOwnedDatabase } from '@/lib/database-roles';
import { createPrisma } from '@/lib/db';
import type { ImportSummary } from '@/lib/import-addresses';
import { importCsvFile } from '@/lib/import-csv';
import { createLedger, type Ledger } from '@/lib/ledger';
import { migrate } from '@/lib/migrate';
import { PROJECTION_NAMES } from '@/projections/checkpoints';
import { SAMPLE_CSV } from '@/projections/search/fixtures/sample';
import { headCursor, spawnProjector } from '@/projections/testing';
import type { BenchContext } from './context';
import { type FigureInput, log, progress, RUNS, repeat, seconds } from './measure';
import type { Scenario } from './writes';

const SHARED_FILE = 'shared/data/addresses-me-nh/addresses_me_nh.csv.gz';
const CANDIDATES = [
  path.resolve(import.meta.dirname, '../..', SHARED_FILE),
  path.resolve(import.meta.dirname, '../../..', SHARED_FILE),
];
const QUICK_ROWS = 2_000;
/** The import's actor: the search group finds the file's addresses by it. */
export const IMPORT_ACTOR = { id: 'bench-import', name: 'Benchmark import', role: 'system' as const };

export function importBenchFile(): { file: string; which: string } {
  if (process.env.BENCH_IMPORT_FILE) return { file: process.env.BENCH_IMPORT_FILE, which: 'BENCH_IMPORT_FILE' };
  const full = CANDIDATES.find((f) => existsSync(f));
  if (full) return { file: full, which: 'the full Maine/New Hampshire file' };
  return { file: SAMPLE_CSV, which: 'the shipped sample (the full file is not in shared/data beside this checkout)' };
}

/** The file the scenario imports: the whole file, or with --quick its header and first rows. */
async function benchFile(quick: boolean): Promise<{ file: string; which: string }> {
  const chosen = importBenchFile();
  if (!quick) return chosen;
  const out = path.join(os.tmpdir(), `address-ledger-bench-import-${process.pid}.csv`);
  const lines = readLines(chosen.file);
  const sink = createWriteStream(out);
  let n = 0;
  // Address rows hold no line breaks inside quotes, so a line is a row.
  for await (const line of lines) {
    sink.write(`${line}\n`);
    if (++n > QUICK_ROWS) break;
  }
  await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return { file: out, which: `the first ${QUICK_ROWS.toLocaleString('en-US')} rows of ${chosen.which} (--quick)` };
}

async function* readLines(file: string): AsyncGenerator<string> {
  const stream = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let rest = '';
  try {
    for await (const chunk of stream) {
      rest += chunk;
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) yield line.replace(/^\uFEFF/, '');
    }
    if (rest) yield rest;
  } finally {
    stream.destroy();
  }
}

async function copyRate(pool: pg.Pool, file: string, table: string): Promise<number> {
  const client = await pool.connect();
  try {
    const header = ((await readLines(file).next()).value as string | undefined) ?? '';
    const columns = header.split(',').map((_, i) => `c${i} text`);
    await client.query(`CREATE TABLE ${table} (${columns.join(', ')})`);
    const t = process.hrtime.bigint();
    const copy = client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT csv, HEADER true)`));
    await pipeline([createReadStream(file), ...(file.endsWith('.gz') ? [createGunzip()] : []), copy]);
    return (copy.rowCount ?? 0) / seconds(t);
  } finally {
    client.release();
  }
}

async function importRate(
  ledger: Ledger,
  file: string,
  label: string,
): Promise<{ rate: number; summary: ImportSummary }> {
  let bar: ReturnType<typeof progress> | null = null;
  const t = process.hrtime.bigint();
  const summary = await importCsvFile(ledger, file, {
    source: 'bench',
    actor: IMPORT_ACTOR,
    onProgress: ({ bytesRead, totalBytes }) => {
      bar ??= progress(label, totalBytes);
      bar.update(bytesRead);
    },
  });
  (bar as ReturnType<typeof progress> | null)?.stop();
  return { rate: summary.rows / seconds(t), summary };
}

/** A migrated database of the bench's server, and a ledger on it, for one run; dropped after. */
async function withScratchDatabase<T>(
  ctx: BenchContext,
  name: string,
  fn: (ledger: Ledger, url: string) => Promise<T>,
) {
  await ensureOwnedDatabase(ctx.server.adminUrl, name);
  await migrate(ctx.databaseUrl(ctx.server.ownerUrl, name));
  const url = ctx.databaseUrl(ctx.server.url, name);
  const prisma = createPrisma(url, { max: 10 });
  try {
    return await fn(createLedger(prisma), url);
  } finally {
    await prisma.$disconnect();
    const admin = new pg.Client({ connectionString: ctx.server.adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE ${pg.escapeIdentifier(name)} WITH (FORCE)`).finally(() => admin.end());
  }
}

const importScenario: Scenario = {
  name: 'import',
  async run(ctx) {
    const { file, which } = await benchFile(ctx.quick);
    ctx.notes.push(`import: ${which} (${path.basename(file)})`);
    log.info({ file, which }, 'import file');
    let last: ImportSummary | null = null;
    const times = ctx.importOnce ? 1 : RUNS;
    if (ctx.importOnce) ctx.notes.push('import: --import-once, one run (no scratch repeats)');
    const runs = repeat(
      'import',
      {
        ours: async (run) => {
          const label = `import: run ${run + 1}`;
          const { rate, summary } =
            run === times - 1
              ? await importRate(ctx.ledger, file, label)
              : await withScratchDatabase(ctx, `bench_import_${run}`, (ledger) => importRate(ledger, file, label));
          last = summary;
          return rate;
        },
        'raw COPY into a text table': (run) => copyRate(ctx.ownerPool, file, `bench_copy_${run}`),
      },
      times,
    );
    // The --quick slice is a temporary file of this run.
    const { ours, ...baselines } = await runs.finally(() => (ctx.quick ? rm(file, { force: true }) : undefined));
    const summary = last as ImportSummary | null;
    return [
      {
        name: 'import (CSV, batched)',
        unit: 'rows/s',
        better: 'higher',
        ours,
        baselines,
        note: summary
          ? `${summary.rows} rows (${summary.registered} registered, ${summary.duplicates} duplicates, ${summary.rejected} rejected); baseline: COPY of the same file into a table of text columns`
          : undefined,
      },
    ];
  },
};

/**
 * "The projector keeps up" (issue 12): the full file imported into a scratch database while the
 * projector runs as `npm start` runs it (its own process, scripts/projector.ts, Postgres search),
 * then the seconds from the import's end until every projection's checkpoint reaches the head.
 * Its events/s (every event the import appended ÷ the time from the import's start until the last
 * projection caught up) against the import's rows/s in the same run. One run: a run holds the
 * shared lock for about a minute with the full file. The per-projection times (the sum of each
 * projection's batch times, from its `batch applied` log lines) say which one is the slower.
 */
const IMPORT_SESSIONS = 'bench-import';
/** The bench's own session reading the checkpoints and pg_stat_activity: counted for neither. */
const MONITOR_SESSION = 'bench-monitor';

/** User + system CPU of a process of this machine so far, in ms (Linux /proc; clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * CPU of the database's sessions (each a server process), sampled every 200 ms until stop(), in
 * ms: the import's (application_name IMPORT_SESSIONS) and everyone else's but the bench's monitor (the projector's). A
 * session that ends between two samples loses at most its last 200 ms.
 */
function sessionCpu(pool: pg.Pool) {
  const seen = new Map<number, { importing: boolean; ms: number; from: number }>();
  let stopped = false;
  const sample = async () => {
    const { rows } = await pool.query<{ pid: number; name: string }>(
      'SELECT pid, application_name AS name FROM pg_stat_activity WHERE datname = current_database()',
    );
    for (const { pid, name } of rows) {
      if (name === MONITOR_SESSION) continue;
      const ms = processCpuMs(pid);
      const known = seen.get(pid);
      if (known) known.ms = Math.max(known.ms, ms);
      else seen.set(pid, { importing: name === IMPORT_SESSIONS, ms, from: ms });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sample().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      if (!stopped) {
        stopped = true;
        await loop;
        await sample().catch(() => {});
      }
      const sum = (importing: boolean) =>
        [...seen.values()].filter((s) => s.importing === importing).reduce((n, s) => n + s.ms - s.from, 0);
      return { import: sum(true), projector: sum(false) };
    },
  };
}

const projectorScenario: Scenario = {
  name: 'projector during the import',
  async run(ctx) {
    const { file, which } = await benchFile(ctx.quick);
    const keyDir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-bench-seal-'));
    try {
      return await withScratchDatabase(ctx, 'bench_import_projector', async (_, url) => {
        // The import's sessions carry a name of their own: every other session of this database
        // is the projector's, whose CPU is counted (below) apart from the import's.
        const named = new URL(url);
        named.searchParams.set('application_name', IMPORT_SESSIONS);
        const prisma = createPrisma(named.toString(), { max: 10 });
        const ledger = createLedger(prisma);
        const child = spawnProjector(
          url,
          { LOG_LEVEL: 'info', SEAL_KEY_FILE: path.join(keyDir, 'seal-key.pem'), PROJECTOR_POLL_MS: '1000' },
          'node',
        );
        const pool = new pg.Pool({ connectionString: url, max: 2, application_name: MONITOR_SESSION });
        let cpu: ReturnType<typeof sessionCpu> | null = null;
        try {
          await child.waitForLog('both projections active', (l) => l.msg === 'projector starting', 60_000);
          cpu = sessionCpu(pool);
          const projectorCpuAtStart = processCpuMs(child.proc.pid!);
          const importCpuAtStart = process.cpuUsage();
          const started = process.hrtime.bigint();
          const { rate, summary } = await importRate(ledger, file, 'import with the projector');
          const importSeconds = seconds(started);
          const importNodeCpuMs = process.cpuUsage(importCpuAtStart);
          const head = decodeCursor(await headCursor(pool));
          const caughtUp = new Map<string, number>();
          const bar = progress('projector: drain after the import', PROJECTION_NAMES.length);
          while (caughtUp.size < PROJECTION_NAMES.length) {
            const { rows } = await pool.query<{ name: string; cursor: string }>(
              'SELECT name, cursor FROM projection_checkpoints',
            );
            for (const row of rows) {
              if (!caughtUp.has(row.name) && compareCursors(decodeCursor(row.cursor), head) >= 0) {
                caughtUp.set(row.name, seconds(started) - importSeconds);
              }
            }
            bar.update(caughtUp.size);
            if (seconds(started) - importSeconds > 600) throw new Error('the projector did not catch up in 10 min');
            if (caughtUp.size < PROJECTION_NAMES.length) await new Promise((r) => setTimeout(r, 50));
          }
          bar.stop();
          const projectorNodeCpuMs = processCpuMs(child.proc.pid!) - projectorCpuAtStart;
          const sessions = await cpu.stop();
          const drain = Math.max(...caughtUp.values());
          const events = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
          const projected = events / (importSeconds + drain);
          const busy = new Map<string, { ms: number; batches: number; events: number }>();
          for (const line of child.logs) {
            if (line.msg !== 'batch applied') continue;
            const b = busy.get(String(line.projection)) ?? { ms: 0, batches: 0, events: 0 };
            b.ms += Number(line.ms);
            b.batches++;
            b.events += Number(line.events);
            busy.set(String(line.projection), b);
          }
          const perProjection = [...busy]
            .map(
              ([name, b]) =>
                `${name} ${b.batches} batches, ${(b.ms / 1000).toFixed(1)} s applying (${Math.round(b.events / (b.ms / 1000))} events/s while busy), caught up ${caughtUp.get(name)?.toFixed(1)} s after the import`,
            )
            .join('; ');
          // CPU, which a machine shared with other jobs changes far less than wall time.
          const perEvent = (ms: number) => Math.round((ms * 1000) / events);
          const projectorCpu = perEvent(projectorNodeCpuMs + sessions.projector);
          const importCpu = perEvent((importNodeCpuMs.user + importNodeCpuMs.system) / 1000 + sessions.import);
          const cpuNote = `CPU per event: projector ${projectorCpu} µs (Node ${perEvent(projectorNodeCpuMs)}, its database sessions ${perEvent(sessions.projector)}), import ${importCpu} µs per row (Node and database sessions)`;
          ctx.notes.push(`projector during the import: ${which}; ${events} events; ${perProjection}; ${cpuNote}`);
          log.info({ rate, importSeconds, drain, projected, perProjection, cpuNote }, 'projector during the import');
          const figures: FigureInput[] = [
            {
              name: 'projector catch-up after the import (import end → every checkpoint at the head)',
              unit: 's',
              better: 'lower',
              ours: [drain],
              baselines: { "the import's own duration": [importSeconds] },
              note: `goal: ≤ 5 s; ${summary.rows} rows`,
            },
            {
              name: 'projector throughput during the import',
              unit: 'events/s',
              better: 'higher',
              ours: [projected],
              baselines: { "the import's rows/s": [rate] },
              note: 'goal: ratio ≥ 1 (events ÷ (import time + drain))',
            },
            {
              name: 'projector CPU per event during the import (its process and database sessions)',
              unit: 'µs',
              better: 'lower',
              ours: [projectorCpu],
              baselines: { "the import's CPU per row": [importCpu] },
            },
          ];
          return figures;
        } finally {
          child.kill('SIGTERM');
          await child.exited;
          await cpu?.stop();
          await pool.end();
          await prisma.$disconnect();
        }
      });
    } finally {
      await rm(keyDir, { recursive: true, force: true });
      if (ctx.quick) await rm(file, { force: true });
    }
  },
};

export const importScenarios: Scenario[] = [importScenario, projectorScenario];
