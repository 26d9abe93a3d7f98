import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressStreamId } from '@/domain/address';
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
  .map((row) => ({ key: row.id, fields: sampleAddressFields(row) }));

describe('importAddresses', () => {
  it('registers every valid row once, with source import, and appends nothing when run again', async () => {
    const progress: number[] = [];
    const first = await importAddresses(ledger, items, {
      source: 'test',
      actor,
      onProgress: (done) => progress.push(done),
    });
    expect(first).toEqual({ registered: 40, unchanged: 0, duplicates: [], rejected: [] });
    expect(progress.at(-1)).toBe(40);

    const again = await importAddresses(ledger, items, { source: 'test', actor });
    expect(again).toEqual({ registered: 0, unchanged: 40, duplicates: [], rejected: [] });
    const { rows } = await db.pool.query("SELECT count(*)::int AS n, min(metadata->>'source') AS source FROM events");
    expect(rows[0]).toEqual({ n: 40, source: 'import' });

    const { state } = await ledger.loadAddress(importedAddressId('test', items[0]!.key));
    expect(state.fields?.line1).toBe(items[0]!.fields.line1);
  });

  it('reports rows that fail validation by key and imports the rest', async () => {
    const report = await importAddresses(
      ledger,
      [
        { key: 'bad-zip', fields: { ...items[0]!.fields, postalCode: 'NOPE' } },
        { key: 'good', fields: { ...items[0]!.fields, line1: '1 Good Street' } },
      ],
      { source: 'test-2', actor },
    );
    expect(report.registered).toBe(1);
    expect(report.rejected).toEqual([{ key: 'bad-zip', issues: [expect.objectContaining({ path: 'postalCode' })] }]);
    const bad = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [
      addressStreamId(importedAddressId('test-2', 'bad-zip')),
    ]);
    expect(bad.rows[0].n).toBe(0);
  });

  it('reports a row that is the same address as an active one as a duplicate naming it, every run', async () => {
    const existing = importedAddressId('test', items[1]!.key);
    const respelt = { ...items[1]!.fields, line1: `  ${items[1]!.fields.line1.toUpperCase()} ` };
    const rows = [
      { key: 'copy-of-1', fields: respelt },
      { key: 'new', fields: { ...items[1]!.fields, line1: '2 New Street' } },
    ];
    const first = await importAddresses(ledger, rows, { source: 'test-3', actor });
    expect(first).toEqual({
      registered: 1,
      unchanged: 0,
      duplicates: [{ key: 'copy-of-1', addressId: existing }],
      rejected: [],
    });
    const again = await importAddresses(ledger, rows, { source: 'test-3', actor });
    expect(again).toEqual({
      registered: 0,
      unchanged: 1,
      duplicates: [{ key: 'copy-of-1', addressId: existing }],
      rejected: [],
    });
  });

  it('derives a stable UUID per source and key', () => {
    const id = importedAddressId('osm', 'menh-000001');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(importedAddressId('osm', 'menh-000001')).toBe(id);
    expect(importedAddressId('other', 'menh-000001')).not.toBe(id);
  });
});
