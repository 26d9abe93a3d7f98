import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addressStreamId } from '@/domain/address';
import { poolOf } from '@/lib/db';
import { readSample, sampleAddressFields } from '@/projections/search/fixtures/sample';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { importAddresses, importedAddressId } from './import-addresses';
import { createLedger, type Ledger } from './ledger';

let db: TestDatabase;
let ledger: Ledger;
beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

const actor = { id: 'system:seed', name: 'Demo data', role: 'system' as const };
const items = readSample()
  .slice(0, 40)
  .map((row, i) => ({ row: i + 1, key: row.id, fields: sampleAddressFields(row) }));

describe('importAddresses', () => {
  it('registers every valid row once, with source import, and appends nothing when run again', async () => {
    const progress: number[] = [];
    // Batches of 7: several round trips, the last one short.
    const first = await importAddresses(ledger, items, {
      source: 'test',
      actor,
      batchSize: 7,
      correlationId: 'run-1',
      onProgress: (summary) => {
        progress.push(summary.registered);
      },
    });
    expect(first).toEqual({ rows: 40, registered: 40, unchanged: 0, duplicates: 0, rejected: 0 });
    // One report per batch answered (6) and one per 7 rows read (5), in the order they happen.
    expect(progress).toHaveLength(11);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(40);

    const again = await importAddresses(ledger, items, { source: 'test', actor, batchSize: 7 });
    expect(again).toEqual({ rows: 40, registered: 0, unchanged: 40, duplicates: 0, rejected: 0 });
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT stream_id)::int AS streams, min(metadata->>'source') AS source,
              min(metadata->>'correlationId') AS run, count(DISTINCT metadata->>'commandId')::int AS commands
       FROM events`,
    );
    expect(rows[0]).toEqual({ n: 40, streams: 40, source: 'import', run: 'run-1', commands: 40 });

    const { state } = await ledger.loadAddress(importedAddressId('test', items[0]!.key));
    expect(state.fields?.line1).toBe(items[0]!.fields.line1);
  });

  it('reports rows that fail validation by key and imports the rest', async () => {
    const rejected: unknown[] = [];
    const report = await importAddresses(
      ledger,
      [
        { row: 1, key: 'bad-zip', fields: { ...items[0]!.fields, country: 'USA', city: '' } },
        { row: 2, key: 'good', fields: { ...items[0]!.fields, line1: '1 Good Street' } },
      ],
      { source: 'test-2', actor, onRejected: (r) => rejected.push(r) },
    );
    expect(report).toEqual({ rows: 2, registered: 1, unchanged: 0, duplicates: 0, rejected: 1 });
    expect(rejected).toEqual([
      {
        row: 1,
        key: 'bad-zip',
        raw: undefined,
        reasons: [
          { path: 'city', message: 'city is required' },
          { path: 'country', message: 'country must be an ISO 3166-1 alpha-2 code such as US or DE' },
        ],
      },
    ]);
    const bad = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [
      addressStreamId(importedAddressId('test-2', 'bad-zip')),
    ]);
    expect(bad.rows[0].n).toBe(0);
  });

  it('reports a row that is the same address as an active one as a duplicate naming it, every run', async () => {
    const existing = importedAddressId('test', items[1]!.key);
    const respelt = { ...items[1]!.fields, line1: `  ${items[1]!.fields.line1.toUpperCase()} ` };
    const rows = [
      { row: 1, key: 'copy-of-1', fields: respelt },
      { row: 2, key: 'new', fields: { ...items[1]!.fields, line1: '2 New Street' } },
    ];
    for (const [run, expected] of [
      [1, { rows: 2, registered: 1, unchanged: 0, duplicates: 1, rejected: 0 }],
      [2, { rows: 2, registered: 0, unchanged: 1, duplicates: 1, rejected: 0 }],
    ] as const) {
      const duplicates: unknown[] = [];
      // The run's first batch looks its rows up: the duplicate is answered, the other row goes in.
      const summary = await importAddresses(ledger, rows, {
        source: 'test-3',
        actor,
        onDuplicate: (d) => duplicates.push(d),
      });
      expect(summary, `run ${run}`).toEqual(expected);
      expect(duplicates).toEqual([{ row: 1, key: 'copy-of-1', addressId: existing }]);
    }
  });

  it('answers the rows of a file overlapping the register as duplicates without sending them, while its batches have duplicates', async () => {
    // The first test's 40 addresses again under another source, with new ones among them.
    const overlapping = items.flatMap((item, i) =>
      i % 8 === 0 ? [item, { key: `fresh-${i}`, fields: { ...item.fields, line1: `${i} Fresh Lane` } }] : [item],
    );
    const duplicates: Array<{ key: string; addressId: string }> = [];
    const refused: number[] = [];
    const summary = await importAddresses(ledger, overlapping, {
      source: 'second-source',
      actor,
      batchSize: 9,
      inFlight: 2,
      onDuplicate: (d) => duplicates.push({ key: d.key, addressId: d.addressId }),
      onBatchRefused: (rows) => refused.push(rows),
    });
    expect(summary).toEqual({ rows: 45, registered: 5, unchanged: 0, duplicates: 40, rejected: 0 });
    expect(duplicates.sort((a, b) => a.key.localeCompare(b.key))).toEqual(
      items
        .map((item) => ({ key: item.key, addressId: importedAddressId('test', item.key) }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    );
    // Every batch holds duplicates, the first ones too: none was refused whole and halved.
    expect(refused).toEqual([]);
  });

  it('stops asking which addresses are held once a batch has no duplicates', async () => {
    // Row 2 is the first test's first address again, under another source; the other 44 are new.
    const sparse = Array.from({ length: 45 }, (_, i) =>
      i === 1
        ? { row: 2, key: 'again', fields: items[0]!.fields }
        : { row: i + 1, key: `sparse-${i}`, fields: { ...items[0]!.fields, line1: `${i} Sparse Way` } },
    );
    const pool = poolOf(ledger.db)!;
    const query = vi.spyOn(pool, 'query');
    const refused: number[] = [];
    let calls: unknown[][] = [];
    try {
      const summary = await importAddresses(ledger, sparse, {
        source: 'sparse-source',
        actor,
        batchSize: 9,
        inFlight: 1,
        onBatchRefused: (rows) => refused.push(rows),
      });
      expect(summary).toEqual({ rows: 45, registered: 44, unchanged: 0, duplicates: 1, rejected: 0 });
    } finally {
      calls = [...query.mock.calls];
      query.mockRestore();
    }
    const lookups = calls.filter(([sql]) => typeof sql === 'string' && sql.includes('JOIN address_keys a'));
    // The first batch looks first (a run's first batches always do) and finds the duplicate, so
    // the second looks too, finds none, and the other three go straight in.
    expect(refused).toEqual([]);
    expect(lookups).toHaveLength(2);
  });

  it('answers the duplicates of a refused batch after looking them up, and sends the rest once more instead of halving it', async () => {
    // Batch 1 (rows 1–9) has no duplicates, so batch 2 goes without a look-up; it holds a row of
    // the register under another source (row 12) and the same new address twice (rows 14 and 17).
    const base = items[20]!.fields;
    const rows = Array.from({ length: 18 }, (_, i) => ({
      row: i + 1,
      key: `refused-${i + 1}`,
      fields: { ...base, line1: `${i + 1} Refusal Road` },
    }));
    rows[11] = { ...rows[11]!, fields: items[3]!.fields };
    rows[16] = { ...rows[16]!, fields: rows[13]!.fields };
    const pool = poolOf(ledger.db)!;
    const query = vi.spyOn(pool, 'query');
    const batches = vi.spyOn(ledger.store, 'appendBatch');
    const singles = vi.spyOn(ledger.store, 'append');
    const refused: number[] = [];
    const duplicates: Array<{ row?: number; addressId: string }> = [];
    let calls: unknown[][] = [];
    let sent: number[] = [];
    try {
      const summary = await importAddresses(ledger, rows, {
        source: 'refused-source',
        actor,
        batchSize: 9,
        inFlight: 1,
        onBatchRefused: (n) => refused.push(n),
        onDuplicate: (d) => duplicates.push({ row: d.row, addressId: d.addressId }),
      });
      expect(summary).toEqual({ rows: 18, registered: 16, unchanged: 0, duplicates: 2, rejected: 0 });
    } finally {
      calls = [...query.mock.calls];
      sent = batches.mock.calls.map(([part]) => part.length);
      expect(singles).not.toHaveBeenCalled();
      vi.restoreAllMocks();
    }
    expect(refused).toEqual([9]);
    expect(duplicates).toEqual([
      { row: 12, addressId: importedAddressId('test', items[3]!.key) },
      { row: 17, addressId: importedAddressId('refused-source', 'refused-14') },
    ]);
    // Batch 1, batch 2 refused, batch 2 without its two duplicates: no halves, no single commands.
    expect(sent).toEqual([9, 9, 7]);
    // The run's first look-up, and the one after the refusal.
    const lookups = calls.filter(([sql]) => typeof sql === 'string' && sql.includes('JOIN address_keys a'));
    expect(lookups).toHaveLength(2);
    const { state } = await ledger.loadAddress(importedAddressId('refused-source', 'refused-18'));
    expect(state.fields?.line1).toBe('18 Refusal Road');
  });

  it('refuses a row imported before with other values, also when those values are another active address', async () => {
    const held = { ...items[11]!.fields, line1: '2 Holder Row' };
    const imported = async (source: string, key: string, fields: typeof held) =>
      importAddresses(ledger, [{ row: 1, key, fields }], { source, actor });
    expect((await imported('holder-source', 'h-1', held)).registered).toBe(1);
    expect((await imported('changed-source', 'k-1', { ...held, line1: '1 Changed Way' })).registered).toBe(1);
    // The file now says k-1 is the held address: looked up or sent, the row is answered by its
    // command's record, as a key reused with other values (not as a duplicate of h-1).
    const rejected: string[] = [];
    const summary = await importAddresses(ledger, [{ row: 1, key: 'k-1', fields: held }], {
      source: 'changed-source',
      actor,
      onRejected: (r) => rejected.push(r.reasons.map((x) => x.message).join('; ')),
    });
    expect(summary).toEqual({ rows: 1, registered: 0, unchanged: 0, duplicates: 0, rejected: 1 });
    expect(rejected[0]).toMatch(/imported before .* with other values/);
  });

  it('derives a stable UUID per source and key', () => {
    const id = importedAddressId('osm', 'menh-000001');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(importedAddressId('osm', 'menh-000001')).toBe(id);
    // The id of every address imported so far: a re-run must find it again.
    expect(id).toBe('3ce59b18-8d93-8ca9-b1c2-beec2a59a60c');
    expect(importedAddressId('other', 'menh-000001')).not.toBe(id);
  });
});
