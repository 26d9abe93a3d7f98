import { createHash, randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { accessLog } from '@/lib/access-log';
import { ledger } from '@/lib/ledger';
import { actorOf, credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { CSV_COLUMNS } from '../audit/_lib/audit-export.server';
import { seedAuditEvents } from '../audit/_lib/testing';
import * as exportRoute from './audit/export/route';

vi.mock('server-only', () => ({}));

/*
 * Exports of 100,000 events: streamed with the memory staying under a ceiling while the reader
 * consumes it without keeping it, the manifest's row count and SHA-256 match the bytes, and a
 * street named like a spreadsheet formula is neutralised in CSV and kept verbatim in NDJSON.
 *
 * Memory is the live heap (V8 heapUsed right after a full garbage collection), sampled every
 * 10 chunks (10,000 rows) during the export, minus the same measure before it: what the export
 * holds, not the garbage between collections. The process's RSS is printed beside it.
 */

const EVENTS = 100_000;
/**
 * The live heap may grow by at most this much during the export. Measured on the 2-core build
 * machine for 100,000 rows: about 1.5-4 MB (one batch of 1,000 rows and its stream prefixes); the
 * files are 28 MB (CSV) and 56 MB (NDJSON), so an export that buffers them (as bytes, strings or
 * rows) fails this by far.
 */
const HEAP_CEILING_MB = 16;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function liveHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

let t: TestDatabase;
let formulaAddress: string;
const FORMULA = '=HYPERLINK("http://x")';

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  await provisionCallers(t.prisma);
  await seedAuditEvents(t.ownerPool, { addresses: 20_000, eventsPerAddress: 5, stepMs: 60_000 });
  formulaAddress = randomUUID();
  await ledger().handle({
    type: 'RegisterAddress',
    data: {
      addressId: formulaAddress,
      fields: { line1: FORMULA, city: '+Portland', postalCode: '04101', country: 'US', owner: '@owner' },
    },
    metadata: { commandId: randomUUID(), correlationId: 'formula', actor: actorOf('auditor'), source: 'api' },
  });
  await waitForAllEventsVisible(t.pool);
}, 300_000);
afterAll(async () => t?.drop());

async function requestExport(query: string) {
  const request = new Request(`http://localhost/api/audit/export?${query}`, { headers: credentials('auditor') });
  return exportRoute.GET(request, { params: Promise.resolve({}) });
}

interface Consumed {
  lines: number;
  /** SHA-256 of every byte before the last line. */
  hashBeforeLast: string;
  lastLine: string;
  peakHeapGrowthMb: number;
  peakRssMb: number;
  bytes: number;
}

/**
 * Reads a response like a recipient writing it to disk: line by line, keeping only the line
 * before the current one (the manifest is the last), hashing the rest as it goes.
 */
async function consume(response: Response): Promise<Consumed> {
  const baseline = liveHeap();
  let peak = baseline;
  let peakRss = process.memoryUsage().rss;
  let chunks = 0;
  const hash = createHash('sha256');
  let held: Buffer | null = null;
  let partial: Buffer = Buffer.alloc(0);
  let lines = 0;
  let bytes = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    let chunk = Buffer.concat([partial, value]);
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10)) {
      const line = chunk.subarray(0, nl + 1);
      if (held) hash.update(held);
      held = Buffer.from(line);
      lines += 1;
      chunk = chunk.subarray(nl + 1);
    }
    partial = Buffer.from(chunk);
    chunks += 1;
    if (chunks % 10 === 0) peak = Math.max(peak, liveHeap());
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  expect(partial.length, 'the file ends with a newline').toBe(0);
  return {
    lines,
    hashBeforeLast: hash.digest('hex'),
    lastLine: held!.toString('utf8'),
    peakHeapGrowthMb: (peak - baseline) / 2 ** 20,
    peakRssMb: peakRss / 2 ** 20,
    bytes,
  };
}

describe('an export of 100,000 events', () => {
  it('streams CSV within the heap ceiling; the manifest matches the rows', async ({ annotate }) => {
    const res = await requestExport('format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    const out = await consume(res);
    await annotate(
      `CSV export: ${out.lines - 2} rows, ${(out.bytes / 2 ** 20).toFixed(1)} MB, live heap growth ${out.peakHeapGrowthMb.toFixed(1)} MB (ceiling ${HEAP_CEILING_MB} MB), peak RSS ${out.peakRssMb.toFixed(0)} MB`,
    );
    expect(out.peakHeapGrowthMb).toBeLessThan(HEAP_CEILING_MB);
    const [label, json] = parseCsv(out.lastLine)[0] as [string, string];
    expect(out.lastLine.startsWith('# manifest,')).toBe(true);
    expect(label).toBe('# manifest');
    const manifest = JSON.parse(json);
    const { rows } = await t.pool.query(
      'SELECT count(*)::int AS n, min(position)::text AS lo, max(position)::text AS hi FROM events',
    );
    expect(manifest).toMatchObject({
      format: 'csv',
      filter: { q: '' },
      rows: EVENTS + 1,
      firstPosition: rows[0].hi,
      lastPosition: rows[0].lo,
      sha256: out.hashBeforeLast,
    });
    expect(rows[0].n).toBe(EVENTS + 1);
    // header + rows + manifest
    expect(out.lines).toBe(1 + EVENTS + 1 + 1);
  }, 300_000);

  it('streams NDJSON within the heap ceiling; the manifest is the last line and matches', async ({ annotate }) => {
    const out = await consume(await requestExport('format=ndjson'));
    await annotate(
      `NDJSON export: ${out.lines - 1} rows, ${(out.bytes / 2 ** 20).toFixed(1)} MB, live heap growth ${out.peakHeapGrowthMb.toFixed(1)} MB, peak RSS ${out.peakRssMb.toFixed(0)} MB`,
    );
    expect(out.peakHeapGrowthMb).toBeLessThan(HEAP_CEILING_MB);
    const { manifest } = JSON.parse(out.lastLine);
    expect(manifest).toMatchObject({ format: 'ndjson', rows: EVENTS + 1, sha256: out.hashBeforeLast });
    expect(out.lines).toBe(EVENTS + 2);
  }, 300_000);
});

describe('cells a spreadsheet would run', () => {
  it('are neutralised in CSV and verbatim in NDJSON', async () => {
    const csvText = await (await requestExport(`format=csv&q=address:${formulaAddress}`)).text();
    const records = parseCsv(csvText, { bom: true, comment: '#', columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(1);
    expect(Object.keys(records[0]!)).toEqual([...CSV_COLUMNS]);
    expect(records[0]).toMatchObject({
      line1_after: `'${FORMULA}`,
      city_after: "'+Portland",
      owner_after: "'@owner",
      address_id: formulaAddress,
      type: 'AddressRegistered',
      acted_via: 'token',
    });
    expect(records[0]?.summary).toMatch(/^Street address =HYPERLINK/);
    for (const cell of Object.values(records[0]!)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);

    const ndjson = (await (await requestExport(`format=ndjson&address=${formulaAddress}`)).text()).trim().split('\n');
    expect(ndjson).toHaveLength(2);
    const row = JSON.parse(ndjson[0]!);
    expect(row.changes).toEqual(
      expect.arrayContaining([
        { field: 'line1', before: null, after: FORMULA },
        { field: 'city', before: null, after: '+Portland' },
      ]),
    );
    // The recipient's check, exactly as README describes it.
    const text = ndjson
      .slice(0, -1)
      .map((l) => `${l}\n`)
      .join('');
    expect(JSON.parse(ndjson.at(-1)!).manifest.sha256).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('a bad format or filter is a 422 before any byte is streamed', async () => {
    const res = await requestExport('format=xlsx');
    expect(res.status).toBe(422);
    expect((await res.json()).error.details.issues[0].path).toBe('format');
    const bad = await requestExport('format=csv&q=colour:red');
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.message).toMatch(/unknown qualifier "colour:"/);
  });
});

describe('the access trail of exports', () => {
  it('holds one record per export with the filter, format and row count', async () => {
    await waitForExportsRecorded(4);
    const { rows } = await t.pool.query(
      `SELECT action, actor_id, filter, row_count FROM access_log WHERE action = 'audit.export' ORDER BY id`,
    );
    expect(rows.map((r) => [r.filter.format, r.filter.q, r.row_count, r.filter.complete])).toEqual([
      ['csv', '', EVENTS + 1, true],
      ['ndjson', '', EVENTS + 1, true],
      ['csv', `address:${formulaAddress}`, 1, true],
      ['ndjson', `address:${formulaAddress}`, 1, true],
    ]);
    expect(new Set(rows.map((r) => r.actor_id))).toEqual(new Set([actorOf('auditor').id]));
  });
});

async function waitForExportsRecorded(n: number) {
  const { waitFor } = await import('@/test/wait');
  await waitFor(`${n} export records`, async () => {
    await accessLog().flush();
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM access_log WHERE action = 'audit.export'`);
    return rows[0].n >= n;
  });
}
