/**
 * The import scenario of `npm run bench`: `npm run import`'s code path (stream, validate, decide,
 * append_events_batch) against a raw `COPY` of the same file into a plain table, in the same run.
 *
 * File: BENCH_IMPORT_FILE, else the full Maine / New Hampshire file where the issue puts it
 * (`../shared/data/addresses-me-nh/` beside the checkout; 131,650 rows), else the shipped sample.
 * The output says which.
 *
 * The projector runs during the import, as under `npm start`; `drainSeconds` is how long both
 * projections took, after the import's last batch, to reach the head ("the projector keeps up").
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { importCsvFile } from '@/lib/import-csv';
import type { Ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { SAMPLE_CSV } from '@/projections/search/fixtures/sample';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import { waitForProjection } from '@/projections/testing';
import { startProjector } from '@/projections/worker';

const FULL_FILE = path.resolve(import.meta.dirname, '../../shared/data/addresses-me-nh/addresses_me_nh.csv.gz');

export function importBenchFile(): { file: string; which: string } {
  if (process.env.BENCH_IMPORT_FILE) return { file: process.env.BENCH_IMPORT_FILE, which: 'BENCH_IMPORT_FILE' };
  if (existsSync(FULL_FILE)) return { file: FULL_FILE, which: 'the full Maine/New Hampshire file' };
  return { file: SAMPLE_CSV, which: 'the shipped sample (the full file is not beside this checkout)' };
}

export async function benchImport(
  pool: pg.Pool,
  ledger: Ledger,
  file: string,
  runtimeUrl: string,
  options: { reportFile?: string } = {},
) {
  const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9;
  const gz = file.endsWith('.gz');

  // Baseline: the file's bytes straight into a table of text columns, nothing checked.
  const client = await pool.connect();
  let copied: number;
  let t = process.hrtime.bigint();
  try {
    const header = await firstLine(file, gz);
    const columns = header.split(',').map((_, i) => `c${i} text`);
    await client.query(`CREATE TABLE bench_copy (${columns.join(', ')})`);
    const copy = client.query(copyFrom('COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)'));
    await pipeline([createReadStream(file), ...(gz ? [createGunzip()] : []), copy]);
    copied = copy.rowCount ?? 0;
  } finally {
    client.release();
  }
  const copyRate = copied / seconds(t);

  const index = createPostgresSearchIndex({ connectionString: runtimeUrl });
  const projector = await startProjector({ databaseUrl: runtimeUrl, searchIndex: index, log: logger });
  try {
    t = process.hrtime.bigint();
    const summary = await importCsvFile(ledger, file, {
      source: 'bench',
      actor: { id: 'bench', name: 'Benchmark', role: 'system' },
      reportFile: options.reportFile,
    });
    const importRate = summary.rows / seconds(t);
    t = process.hrtime.bigint();
    await waitForProjection(pool, 'address_view', { timeoutMs: 600_000 });
    await waitForProjection(pool, 'address_search', { timeoutMs: 600_000 });
    const drainSeconds = seconds(t);
    return { summary, copied, importRate, copyRate, drainSeconds };
  } finally {
    await projector.stop();
    await index.close();
  }
}

async function firstLine(file: string, gz: boolean): Promise<string> {
  const stream = gz ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let text = '';
  for await (const chunk of stream) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  stream.destroy();
  return text.slice(0, text.indexOf('\n')).replace(/^\uFEFF/, '');
}
