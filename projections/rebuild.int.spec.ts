import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addressStreamId } from '@/domain/address';
import type { EventMetadata } from '@/domain/messages';
import { createLedger, type Ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { replayAddresses } from './address-view/projection';
import { readCheckpoint } from './checkpoints';
import { type RebuildProgress, RebuildVerificationError, rebuildProjections } from './rebuild';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import type { SearchIndex } from './search/search-index';
import { addressViewDocs, allEvents, commands, tableRows, waitForProjection, writeHistory } from './testing';
import { type Projector, startProjector } from './worker';

let db: TestDatabase;
let ledger: Ledger;
let index: SearchIndex;
const running: Projector[] = [];
const log = logger.child({ test: 'rebuild' });

async function startWorker() {
  const projector = await startProjector({
    databaseUrl: db.url,
    searchIndex: index,
    pollMs: 100,
    lockRetryMs: 50,
    batchSize: 40,
    log,
  });
  running.push(projector);
  return projector;
}

const tableOid = async (table: string) =>
  (await db.pool.query<{ oid: number }>('SELECT $1::regclass::oid AS oid', [table])).rows[0]!.oid;
/** Storage parameters (fillfactor and the like), which `LIKE … INCLUDING ALL` does not copy. */
const storage = async (table: string) =>
  (
    await db.pool.query<{ o: string[] | null }>('SELECT reloptions AS o FROM pg_class WHERE oid = $1::regclass', [
      table,
    ])
  ).rows[0]!.o;
const indexNames = async (table: string) =>
  (
    await db.pool.query<{ n: string }>('SELECT indexname AS n FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [table])
  ).rows.map((r) => r.n);

beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
  index = createPostgresSearchIndex({ connectionString: db.url });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await index?.close();
  await db?.drop();
});

describe('rebuilding the projections from event zero', () => {
  it('produces exactly the rows the projector built incrementally, in fresh tables swapped in', async () => {
    await writeHistory(ledger, 40, 'rebuild');
    const worker = await startWorker();
    await waitForProjection(db.pool, 'address_view');
    await waitForProjection(db.pool, 'address_search');
    await worker.stop();
    const incremental = await tableRows(db.pool, 'address_view', 'address_id');
    const incrementalSearch = await tableRows(db.pool, 'address_search', 'id');
    const oids = [
      await tableOid('address_view'),
      await tableOid('address_search'),
      await tableOid('address_search_words'),
    ];
    const indexes = [await indexNames('address_view'), await indexNames('address_search')];
    // Migration 20261203020000_search_speed: half-full pages keep the vocabulary's updates HOT.
    expect(await storage('address_search_words')).toEqual(['fillfactor=50']);

    const progress: RebuildProgress[] = [];
    const reports = await rebuildProjections({
      databaseUrl: db.url,
      searchIndex: index,
      batchSize: 25,
      log,
      onProgress: (p) => progress.push(p),
    });

    // New tables (so the comparison is not of a table with itself), same names, same indexes.
    expect(await tableOid('address_view')).not.toBe(oids[0]);
    expect(await tableOid('address_search')).not.toBe(oids[1]);
    expect(await tableOid('address_search_words')).not.toBe(oids[2]);
    expect([await indexNames('address_view'), await indexNames('address_search')]).toEqual(indexes);
    expect(await storage('address_search_words')).toEqual(['fillfactor=50']);
    expect(await tableRows(db.pool, 'address_view', 'address_id')).toEqual(incremental);
    expect(await tableRows(db.pool, 'address_search', 'id')).toEqual(incrementalSearch);

    const total = (await allEvents(db.pool)).length;
    expect(reports.map((r) => [r.projection, r.events, r.documents])).toEqual([
      ['address_view', total, 40],
      ['address_search', total, 40],
    ]);
    expect(progress.filter((p) => p.phase === 'replay').at(-1)).toMatchObject({ processed: total, total });
    expect(progress.at(-1)?.phase).toBe('done');
  });

  it('keeps serving and projecting while it runs, catches up with the live worker, and swaps without losing events', async () => {
    await startWorker();
    const c = commands(ledger);
    let servedDuringRebuild = 0;
    const reports = await rebuildProjections({
      databaseUrl: db.url,
      searchIndex: index,
      batchSize: 25,
      log,
      hooks: {
        async afterReplay() {
          // New commands while the copy is being built: the live worker projects them, and the
          // copy must pick them up before it is swapped in.
          for (let i = 0; i < 5; i++) await c.register({ line1: `${i} During Rebuild Road` });
          await waitForProjection(db.pool, 'address_view');
          await waitForProjection(db.pool, 'address_search');
          servedDuringRebuild = (await addressViewDocs(db.pool)).size;
        },
      },
    });
    expect(servedDuringRebuild).toBeGreaterThan(40);
    for (const r of reports) expect(r.cursor).toBe((await readCheckpoint(db.pool, r.projection)).cursor);

    // After the swap the live worker simply carries on from the swapped-in checkpoint.
    await c.register({ line1: '1 After Rebuild Road' });
    await waitForProjection(db.pool, 'address_view');
    await waitForProjection(db.pool, 'address_search');
    const expected = replayAddresses(await allEvents(db.pool));
    expect(await addressViewDocs(db.pool)).toEqual(expected);
    expect(await index.getDocuments([...expected.keys()])).toEqual(expected);
  });

  it('reads events stored in an old shape through the upcasters, as the live projector does', async () => {
    const id = randomUUID();
    const metadata: EventMetadata = {
      actor: { id: 'u-old', name: 'Old Importer', role: 'operator' },
      commandId: `old-${id}`,
      correlationId: `old-${id}`,
      source: 'import',
    };
    // AddressRegistered schema version 1 (domain/address/upcasters.ts): street/zip/countryCode.
    await ledger.store.append(
      addressStreamId(id),
      [
        {
          type: 'AddressRegistered',
          schemaVersion: 1,
          data: {
            addressId: id,
            street: '9 Old Shape Road',
            city: 'Augusta',
            state: 'ME',
            zip: '04330',
            countryCode: 'US',
          },
          metadata,
        },
        { type: 'AddressChanged', schemaVersion: 1, data: { addressId: id, changes: { city: 'Hallowell' } }, metadata },
      ],
      { expectedVersion: 0 },
    );

    // The rebuild replays what gap-safe readers see: wait until that includes these events.
    await waitForAllEventsVisible(db.pool);
    await rebuildProjections({ databaseUrl: db.url, searchIndex: index, log });

    const expected = {
      version: 2,
      line1: '9 Old Shape Road',
      city: 'Hallowell',
      region: 'ME',
      postalCode: '04330',
      country: 'US',
    };
    expect((await addressViewDocs(db.pool)).get(id)).toMatchObject(expected);
    expect((await index.getDocuments([id])).get(id)).toMatchObject(expected);
    expect(
      (await index.search({ q: 'old shape road', sort: 'relevance', page: 1, perPage: 10 })).hits.map((h) => h.id),
    ).toContain(id);
  });

  it('refuses to swap in a copy that does not match the event store, leaving the live tables as they were', async () => {
    const before = await tableRows(db.pool, 'address_view', 'address_id');
    const oid = await tableOid('address_view');
    const error = await rebuildProjections({
      databaseUrl: db.url,
      projections: ['address_view'],
      log,
      hooks: {
        async afterReplay(targets) {
          // Simulate a projection bug: one document of the copy ends up at the wrong version.
          await db.pool.query(
            `UPDATE ${targets[0]!.location} SET version = version + 1 WHERE address_id = (SELECT min(address_id) FROM ${targets[0]!.location})`,
          );
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RebuildVerificationError);
    expect((error as RebuildVerificationError).details.differences).toHaveLength(1);
    expect(await tableOid('address_view')).toBe(oid);
    expect(await tableRows(db.pool, 'address_view', 'address_id')).toEqual(before);
    const leftovers = await db.pool.query(`SELECT 1 FROM pg_tables WHERE tablename = 'address_view_rebuild'`);
    expect(leftovers.rowCount).toBe(0);
  });
});
