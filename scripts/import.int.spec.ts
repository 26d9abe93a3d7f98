import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAdvisoryLock } from '@/lib/advisory-locks';
import { importLockName } from '@/lib/import-jobs';
import { SAMPLE_CSV } from '@/projections/search/fixtures/sample';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';

let t: TestDatabase;
const dir = mkdtempSync(path.join(os.tmpdir(), 'import-cli-'));
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  // Node itself with tsx as a loader: the tsx wrapper would run the script in a child of its own,
  // which a SIGKILL of the wrapper leaves running.
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import.ts', ...args], {
    env: { ...process.env, DATABASE_URL: t.url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
const importCli = (args: string[]) => start(args).done;

const count = async (sql: string, params: unknown[] = []) =>
  (await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params)).rows[0]!.n;
const summaryOf = (stdout: string) => ({
  registered: Number(/(?:registered|would register)\s+(\d+)/.exec(stdout)?.[1]),
  unchanged: Number(/already there\s+(\d+)/.exec(stdout)?.[1]),
  rejected: Number(/rejected\s+(\d+)/.exec(stdout)?.[1]),
});

const duplicatesOf = (stdout: string) => Number(/duplicates\s+(\d+)/.exec(stdout)?.[1]);

const sample = readFileSync(SAMPLE_CSV, 'utf8');
const sampleRows = parse(sample, { columns: true }) as Record<string, string>[];
// The shipped sample is all valid; three broken rows after it prove the report.
const BAD_ROWS = [
  'bad-0001,5,Main Street,,Portland,,Maine,ME,ABC-12,US,,,test',
  'bad-0002,7,Main Street,,,,Maine,ME,04101,USA,,,test',
  'bad-0003,9,Main Street,,Portland',
];

describe('npm run import', () => {
  it('imports the sample with bad rows: every valid row once, the bad ones reported with every reason; a re-run appends nothing', async () => {
    const file = path.join(dir, 'sample-with-bad-rows.csv');
    writeFileSync(file, `${sample.trimEnd()}\n${BAD_ROWS.join('\n')}\n`);
    const report = path.join(dir, 'report.csv');

    const first = await importCli([file, '--source', 'osm', '--report', report]);
    expect(first.code, first.stderr).toBe(0);
    expect(summaryOf(first.stdout)).toEqual({ registered: sampleRows.length, unchanged: 0, rejected: 3 });
    const rejected = parse(readFileSync(report, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rejected.map((r) => [r.row, r.id, r.reasons])).toEqual([
      [String(sampleRows.length + 1), 'bad-0001', 'postalCode: postal code ABC-12 is not valid for US'],
      [
        String(sampleRows.length + 2),
        'bad-0002',
        'city: city is required; country: country must be an ISO 3166-1 alpha-2 code such as US or DE',
      ],
      [
        String(sampleRows.length + 3),
        'bad-0003',
        'the row has 5 columns; the header has 13; postalCode: postal code is required; country: country must be an ISO 3166-1 alpha-2 code such as US or DE',
      ],
    ]);
    const events = await t.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT stream_id)::int AS streams,
              count(DISTINCT metadata->>'correlationId')::int AS runs,
              min(metadata->>'source') AS source, min(metadata->'actor'->>'id') AS actor
       FROM events`,
    );
    expect(events.rows[0]).toEqual({
      n: sampleRows.length,
      streams: sampleRows.length,
      runs: 1,
      source: 'import',
      actor: `system:import:${os.userInfo().username}`,
    });

    // Again, and once more from a gzip-compressed copy: the same rows, nothing appended.
    const again = await importCli([file, '--source', 'osm']);
    expect(summaryOf(again.stdout)).toEqual({ registered: 0, unchanged: sampleRows.length, rejected: 3 });
    const gz = path.join(dir, 'sample.csv.gz');
    writeFileSync(gz, gzipSync(sample));
    const gzipped = await importCli([gz, '--source', 'osm']);
    expect(summaryOf(gzipped.stdout)).toEqual({ registered: 0, unchanged: sampleRows.length, rejected: 0 });
    expect(await count('SELECT 1 FROM events')).toBe(sampleRows.length);
  }, 120_000);

  it('a run killed half way finishes on the next run: no duplicates, no gaps', async () => {
    // 8 copies of the sample under other keys and with other streets (the duplicate guard would
    // refuse the same addresses again): 22,112 rows, long enough to be killed in the middle.
    const header = sample.slice(0, sample.indexOf('\n'));
    const body = sample.slice(sample.indexOf('\n') + 1).trimEnd();
    const copies = Array.from({ length: 8 }, (_, i) =>
      body.replace(/^menh-(\d+),([^,]*),/gm, (_, id, house) => `copy${i}-${id},${house},Copy${i} `),
    );
    const file = path.join(dir, 'big.csv');
    writeFileSync(file, `${header}\n${copies.join('\n')}\n`);
    const total = sampleRows.length * 8;
    const streams = "SELECT DISTINCT stream_id FROM events WHERE metadata->>'commandId' LIKE 'import:big:%'";

    const already = await count('SELECT 1 FROM events');
    // Small batches, so that the kill lands between many commits.
    const run = start([file, '--source', 'big', '--batch-size', '20']);
    await waitFor('the import to be part-way', async () => (await count('SELECT 1 FROM events')) >= already + 1_000, {
      timeoutMs: 60_000,
    });
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBeNull(); // killed, not finished
    const before = await count(streams);
    expect(before).toBeLessThan(total);

    const rerun = await importCli([file, '--source', 'big']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(summaryOf(rerun.stdout)).toEqual({ registered: total - before, unchanged: before, rejected: 0 });
    expect(await count(streams)).toBe(total);
    expect(await count("SELECT 1 FROM events WHERE metadata->>'commandId' LIKE 'import:big:%'")).toBe(total);
    expect(await count("SELECT 1 FROM processed_commands WHERE command_id LIKE 'import:big:%'")).toBe(total);
  }, 180_000);

  // Opt-in (IMPORT_FULL_FILE=path, e.g. ../shared/data/addresses-me-nh/addresses_me_nh.csv.gz):
  // the full 131,650-row file, twice. Every row is either registered or reported; the second run
  // appends nothing.
  it.runIf(process.env.IMPORT_FULL_FILE)(
    'imports a full file once, and a re-run appends nothing',
    async () => {
      const file = process.env.IMPORT_FULL_FILE!;
      const report = path.join(dir, 'full-report.csv');
      const first = await importCli([file, '--source', 'full', '--report', report]);
      expect(first.code, first.stderr).toBe(0);
      const rows = Number(/: (\d+) rows in/.exec(first.stdout)?.[1]);
      const s = summaryOf(first.stdout);
      process.stdout.write(first.stdout); // the rows/s of this run, for the record
      expect(rows).toBeGreaterThan(0);
      // The full file holds a few rows that are the same address as an earlier row under another
      // id: the duplicate guard refuses them (counted, not rejected).
      const duplicates = duplicatesOf(first.stdout);
      expect(s.registered + duplicates + s.rejected).toBe(rows);
      const rejected = parse(readFileSync(report, 'utf8'), { columns: true }) as Array<Record<string, string>>;
      expect(rejected).toHaveLength(s.rejected);
      // The rejected rows and their reasons, for the record as well.
      for (const r of rejected) process.stdout.write(`rejected row ${r.row}: ${r.reasons}\n`);
      expect(await count("SELECT 1 FROM events WHERE metadata->>'commandId' LIKE 'import:full:%'")).toBe(s.registered);
      const again = await importCli([file, '--source', 'full']);
      expect(summaryOf(again.stdout)).toEqual({ registered: 0, unchanged: s.registered, rejected: s.rejected });
      expect(duplicatesOf(again.stdout)).toBe(duplicates);
      expect(await count("SELECT 1 FROM events WHERE metadata->>'commandId' LIKE 'import:full:%'")).toBe(s.registered);
    },
    600_000,
  );

  it('--dry-run validates and counts, and writes nothing', async () => {
    const file = path.join(dir, 'dry.csv');
    writeFileSync(file, `${sample.split('\n').slice(0, 11).join('\n')}\n${BAD_ROWS[0]}\n`);
    const before = await count('SELECT 1 FROM events');
    const dry = await importCli([file, '--source', 'dry', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(summaryOf(dry.stdout)).toEqual({ registered: 10, unchanged: 0, rejected: 1 });
    expect(await count('SELECT 1 FROM events')).toBe(before);
  }, 60_000);

  it('refuses a missing file, a file without address columns and bad options, writing nothing', async () => {
    const before = await count('SELECT 1 FROM events');
    const missing = await importCli([path.join(dir, 'nope.csv')]);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/no such file/);

    const odd = path.join(dir, 'odd.csv');
    writeFileSync(odd, 'name,phone\nAda,123\n');
    const unrecognised = await importCli([odd]);
    expect(unrecognised.code).toBe(1);
    expect(unrecognised.stderr).toMatch(/no column for line 1 \(or street\), city, postal code, country/);

    const empty = path.join(dir, 'empty.csv');
    writeFileSync(empty, '');
    expect((await importCli([empty])).stderr).toMatch(/the file is empty/);
    expect((await importCli([odd, '--map', 'name=nickname'])).stderr).toMatch(/unknown field "nickname"/);
    expect((await importCli([odd, '--no-such-option'])).code).toBe(2);
    // A value that looks like an option is a usage error of parseArgs' own.
    expect((await importCli([odd, '--max-lag', '-5'])).code).toBe(2);
    expect((await importCli([odd, '--max-lag='])).code).toBe(2);
    const negativeLag = await importCli([odd, '--max-lag=-5']);
    expect(negativeLag.code).toBe(2);
    expect(negativeLag.stderr).toMatch(/--max-lag: a whole number of events, 0 or more/);
    const badMap = await importCli([odd, '--map', 'street']);
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toMatch(/--map street: expected column=field/);

    const headerOnly = path.join(dir, 'header-only.csv');
    writeFileSync(headerOnly, `${sample.split('\n')[0]}\n`);
    const noRows = await importCli([headerOnly]);
    expect(noRows.code).toBe(1);
    expect(noRows.stderr).toMatch(/a header row but no rows of addresses/);

    const reportNowhere = await importCli([SAMPLE_CSV, '--report', path.join(dir, 'no-such-dir', 'r.csv')]);
    expect(reportNowhere.code).toBe(1);
    expect(reportNowhere.stderr).toMatch(/cannot write the report .*no-such-dir/);
    expect(await count('SELECT 1 FROM events')).toBe(before);
  }, 60_000);

  it('reports a file whose quote never closes at its row, after the rows before it', async () => {
    const [header, ...lines] = sample.trim().split('\n');
    const broken = path.join(dir, 'open-quote.csv');
    writeFileSync(broken, [header, lines[0], lines[1]!.replace(',', ',"'), lines[2]].join('\n'));
    const result = await importCli([broken, '--source', 'open-quote']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /row 2 \(the row after 1\) opens a quote that is not closed before the end of the file/,
    );
  });

  it('refuses to run while another run of the same source holds its lock', async () => {
    const lock = await holdAdvisoryLock(t.url, importLockName('locked-source'), () => {});
    try {
      const busy = await importCli([SAMPLE_CSV, '--source', 'locked-source']);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/an import of source "locked-source" is running/);
      expect(await count(`SELECT 1 FROM events WHERE metadata->>'commandId' LIKE 'import:locked-source:%'`)).toBe(0);
    } finally {
      await lock?.end();
    }
  });

  it("lists the duplicate guard's rows in the report, and a formula in a rejected row as text", async () => {
    const [header, ...lines] = sample.trim().split('\n');
    const cols = header!.split(',');
    const at = (name: string) => cols.indexOf(name);
    // An address no other test imports, so only row 2 is its duplicate.
    const row = lines[0]!.split(',');
    row[at('street')] = 'Report Case Street';
    const copy = [...row];
    copy[at('id')] = 'dup-copy';
    const formula = [...row];
    formula[at('id')] = 'formula-row';
    formula[at('postal_code')] = '=1+1';
    const longKey = [...row];
    longKey[at('id')] = 'k'.repeat(300);
    const file = path.join(dir, 'report-cases.csv');
    writeFileSync(file, [header, row.join(','), copy.join(','), formula.join(','), longKey.join(',')].join('\n'));
    const reportFile = path.join(dir, 'report-cases.report.csv');
    const result = await importCli([file, '--source', 'report-cases', '--report', reportFile]);
    expect(result.code).toBe(0);
    const report = parse(readFileSync(reportFile, 'utf8'), { columns: true }) as Record<string, string>[];
    // Rejected rows are written as they are read, the duplicates once their batch is answered.
    report.sort((a, b) => Number(a.row) - Number(b.row));
    expect(report.map((r) => [r.row, r.reasons?.split(':')[0], r.postal_code])).toEqual([
      ['2', 'duplicate', row[at('postal_code')]],
      ['3', 'postalCode', "'=1+1"],
      ['4', 'key', row[at('postal_code')]],
    ]);
    expect(report[2]!.reasons).toBe('key: the row key is longer than 200 characters');
  });
});
