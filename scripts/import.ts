/**
 * `npm run import -- FILE [--map column=field …] [--source NAME] [--dry-run] [--report FILE]`
 *
 * Registers the addresses of a CSV or .csv.gz file of any size (lib/import-csv.ts): every row
 * validated like the API, registered through the domain rules with `source: import`, in batches.
 * Re-running registers nothing twice; a run that was killed finishes where it stopped. Progress on
 * stderr (a terminal), the summary on stdout, rejected rows with their reasons in --report.
 * Exit status: 0 when the file was read to its end (rejected rows are in the summary and the
 * report), 1 when the run failed or was refused (a bad file, the source busy, the database), 2 for
 * a usage error.
 * Database: DATABASE_URL, or the embedded one of `npm start` (running or not).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { holdAdvisoryLock } from '@/lib/advisory-locks';
import { createPrisma } from '@/lib/db';
import { openLocalDatabase } from '@/lib/embedded-postgres';
import { DEFAULT_MAX_PROJECTION_LAG } from '@/lib/import-addresses';
import { IMPORT_SOURCE_PATTERN, IMPORT_TARGETS, importSourceFromFileName, parseMapOptions } from '@/lib/import-columns';
import { importCsvFile } from '@/lib/import-csv';
import { ImportBusyError, importLockName } from '@/lib/import-jobs';
import { createLedger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';

const USAGE = `usage: npm run import -- FILE [--map column=field …] [--source NAME] [--dry-run] [--report FILE]
  FILE            CSV with a header row, or gzip-compressed CSV
  --map c=f       read field f from column c (fields: ${IMPORT_TARGETS.join(', ')})
  --source NAME   names the source; rows are recognised on a re-run by source and key (default: FILE's name)
  --dry-run       validate and count, write nothing
  --report FILE   write rejected rows (row, reasons, the row's columns) as CSV
  --batch-size N  rows per round trip (default 1000)
  --max-lag N     wait while a running projector is more than N events behind (default ${DEFAULT_MAX_PROJECTION_LAG}; 0: never)`;

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      map: { type: 'string', multiple: true },
      source: { type: 'string' },
      'dry-run': { type: 'boolean' },
      report: { type: 'string' },
      'batch-size': { type: 'string' },
      'max-lag': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one FILE');
  const file = positionals[0]!;
  const map = (() => {
    try {
      return parseMapOptions(values.map ?? []);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  })();
  const source = values.source ?? importSourceFromFileName(file);
  if (!IMPORT_SOURCE_PATTERN.test(source)) throw new UsageError('--source: letters, digits, ".", "-" and "_" only');
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 5000)) {
    throw new UsageError('--batch-size: a whole number from 1 to 5000');
  }

  // An empty value is not 0.
  const maxLag = values['max-lag'] === undefined ? undefined : Number(values['max-lag'] || Number.NaN);
  if (maxLag !== undefined && !(Number.isInteger(maxLag) && maxLag >= 0)) {
    throw new UsageError('--max-lag: a whole number of events, 0 or more');
  }

  // Before a database is opened: a typo in the name fails at once.
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const database = await openLocalDatabase();
  const db = createPrisma(database.url, { max: 4 });
  let lock: Awaited<ReturnType<typeof holdAdvisoryLock>> = null;
  try {
    await migrate(database.migrationUrl);
    // The upload page's lock of the source (lib/import-jobs.ts): one run of a source at a time,
    // whether it came from here or from /import. A dry run writes nothing and takes none.
    if (!values['dry-run']) {
      lock = await holdAdvisoryLock(database.url, importLockName(source), (error) =>
        logger.warn({ err: error.message, source }, 'import lock connection lost'),
      );
      if (!lock) throw new ImportBusyError(source, null);
    }
    const user = os.userInfo().username;
    const bar = new cliProgress.SingleBar(
      {
        format: ' import |{bar}| {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted}',
        stream: process.stderr,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const startedAt = Date.now();
    const rate = (rows: number) => Math.round(rows / Math.max(0.001, (Date.now() - startedAt) / 1000));
    let started = false;
    const summary = await importCsvFile(createLedger(db), file, {
      source,
      actor: { id: `system:import:${user}`, name: `npm run import (${user})`, role: 'system' },
      map,
      batchSize,
      maxProjectionLag: maxLag,
      dryRun: values['dry-run'] ?? false,
      reportFile: values.report,
      onProgress: ({ bytesRead, totalBytes, summary: s }) => {
        if (!started) {
          bar.start(Math.max(1, totalBytes), 0, { rows: 0, speed: 0 });
          started = true;
        }
        bar.update(bytesRead, { rows: s.rows, speed: rate(s.rows) });
      },
    });
    if (started) bar.stop();
    const seconds = (Date.now() - startedAt) / 1000;
    const lines = [
      `${values['dry-run'] ? 'Dry run of' : 'Imported'} ${file} as source ${source}: ${summary.rows} rows in ${seconds.toFixed(1)} s (${rate(summary.rows)} rows/s)`,
      `  ${(values['dry-run'] ? 'would register' : 'registered').padEnd(15)} ${summary.registered}`,
      `  ${'already there'.padEnd(15)} ${summary.unchanged}`,
      `  ${'duplicates'.padEnd(15)} ${summary.duplicates}${summary.duplicates > 0 ? ' (the same address as an active one under another key: not imported)' : ''}`,
      `  ${'rejected'.padEnd(15)} ${summary.rejected}${values.report ? ` (reasons in ${values.report})` : summary.rejected > 0 ? ' (use --report FILE for the rows and reasons)' : ''}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await lock?.end().catch(() => {});
    await db.$disconnect();
    await database.close();
  }
}

class UsageError extends Error {}

// An explicit exit: open pools and timers must not keep a finished command alive.
main().then(
  () => process.exit(0),
  (error) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`import failed: ${message}\n${error instanceof UsageError ? `${USAGE}\n` : ''}`);
    logger.debug({ err: message }, 'import failed');
    process.exit(error instanceof UsageError || String(error?.code).startsWith('ERR_PARSE_ARGS_') ? 2 : 1);
  },
);
