import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { addressStreamId } from '@/domain/address';
import { createLedger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { projectorTestbed } from '@/test/projector-testbed';
import { replayAddresses } from './address-view/projection';
import { readCheckpoint, setCheckpoint } from './checkpoints';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import { getProjectionStatus } from './status';
import {
  addressViewDocs,
  allEvents,
  burnTransactionIdsToNextPowerOfTen,
  commands,
  tableRows,
  waitFor,
  waitForProjection,
  writeHistory,
} from './testing';
import { type ProjectorOptions, startProjector } from './worker';

const log = logger.child({ test: 'worker' });
const bed = projectorTestbed('worker', { pollMs: 200, batchSize: 50 });
const start = (options: Partial<ProjectorOptions> = {}) => bed.start(options);
const stopAll = () => bed.stopAll();

describe('the projector', () => {
  it('builds address_view and the search index equal to a replay of every event', async () => {
    await writeHistory(bed.ledger, 24, 'first');
    await start({ searchIndex: createPostgresSearchIndex({ connectionString: bed.db.url }) });
    await waitForProjection(bed.db.pool, 'address_view');
    await waitForProjection(bed.db.pool, 'address_search');

    const expected = replayAddresses(await allEvents(bed.db.pool));
    expect(await addressViewDocs(bed.db.pool)).toEqual(expected);
    expect(await bed.index.getDocuments([...expected.keys()])).toEqual(expected);
  });

  it('gives the same read model when every event is applied a second time', async () => {
    await start();
    await waitForProjection(bed.db.pool, 'address_view');
    const before = await tableRows(bed.db.pool, 'address_view', 'address_id');
    const searchBefore = await tableRows(bed.db.pool, 'address_search', 'id');
    const processed = Number((await readCheckpoint(bed.db.pool, 'address_view')).eventsProcessed);
    await stopAll();

    // Rewind both checkpoints to the beginning: every event is delivered again.
    await setCheckpoint(bed.db.pool, 'address_view', '0-0');
    await setCheckpoint(bed.db.pool, 'address_search', '0-0');
    await start();
    const after = await waitForProjection(bed.db.pool, 'address_view');
    await waitForProjection(bed.db.pool, 'address_search');

    expect(Number(after.eventsProcessed)).toBe(2 * processed);
    expect(await tableRows(bed.db.pool, 'address_view', 'address_id')).toEqual(before);
    expect(await tableRows(bed.db.pool, 'address_search', 'id')).toEqual(searchBefore);
  });

  it('picks up new events on NOTIFY well before the next poll', async () => {
    const projector = await start({ pollMs: 60_000 });
    await waitForProjection(bed.db.pool, 'address_view');
    await waitFor('the runners to idle', async () => projector.runners.every((r) => r.state === 'active'));
    const id = await commands(bed.ledger).register({ line1: '1 Notify Lane' });
    const doc = await waitFor(
      'the new address in address_view',
      async () => (await addressViewDocs(bed.db.pool)).get(id),
      {
        timeoutMs: 5_000,
      },
    );
    expect(doc.line1).toBe('1 Notify Lane');
  });

  it('does not skip a transaction that appended first and committed last, in address_view or the index', async () => {
    const projector = await start();
    await waitForProjection(bed.db.pool, 'address_view');
    const slowId = randomUUID();
    // Owner: a raw row with its own transaction timing; the app's role may only append through append_events.
    const slow = await bed.db.ownerPool.connect();
    try {
      // The slow writer takes its position first…
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
         VALUES ($1, 1, $2, 'AddressRegistered', 2, $3, $4)`,
        [
          addressStreamId(slowId),
          randomUUID(),
          { addressId: slowId, line1: '9 Slow Road', city: 'Bath', postalCode: '04530', country: 'US' },
          {
            actor: { id: 'slow', name: 'Slow', role: 'operator' },
            commandId: 'slow',
            correlationId: 'slow',
            source: 'api',
          },
        ],
      );
      // …a fast writer appends after it and commits first…
      const fastId = await commands(bed.ledger).register({ line1: '1 Fast Street' });
      const readsBefore = projector.runners.map((r) => r.reads);
      // …and the projector polls several times while the slow transaction is still open.
      await waitFor('the projector to read a few times', async () =>
        projector.runners.every((r, i) => r.reads >= readsBefore[i]! + 3),
      );
      expect((await addressViewDocs(bed.db.pool)).has(fastId)).toBe(false);
      await slow.query('COMMIT');

      await waitForProjection(bed.db.pool, 'address_view');
      await waitForProjection(bed.db.pool, 'address_search');
      const view = await addressViewDocs(bed.db.pool);
      expect(view.get(slowId)?.line1).toBe('9 Slow Road');
      expect(view.get(fastId)?.line1).toBe('1 Fast Street');
      expect([...(await bed.index.getDocuments([slowId, fastId])).keys()].sort()).toEqual([slowId, fastId].sort());
    } finally {
      await slow.query('ROLLBACK').catch(() => {});
      slow.release();
    }
  });

  it('skips an event type it does not know with a log line and keeps going', async () => {
    await start();
    const id = await commands(bed.ledger).register({ line1: '5 Future Way' });
    // Owner: a raw row of a type this code does not know (the app's role cannot insert into events).
    await bed.db.ownerPool.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
       VALUES ($1, 2, $2, 'AddressGeocoded', 1, '{"lat": 43.6}', '{"actor": {"id": "x", "name": "x", "role": "system"}}')`,
      [addressStreamId(id), randomUUID()],
    );
    // (The write side's own fold refuses unknown types, so the next event is appended directly.)
    await bed.ledger.store.append(
      addressStreamId(id),
      [
        {
          type: 'AddressChanged',
          schemaVersion: 1,
          data: { addressId: id, changes: { line1: '7 Future Way' } },
          metadata: {
            actor: { id: 'x', name: 'x', role: 'operator' },
            commandId: 'x',
            correlationId: 'x',
            source: 'api',
          },
        },
      ],
      { expectedVersion: 2 },
    );
    await waitForProjection(bed.db.pool, 'address_view');
    expect((await addressViewDocs(bed.db.pool)).get(id)).toMatchObject({ version: 3, line1: '7 Future Way' });
  });

  it('reports lag in events and seconds while the worker is stopped, and none once it caught up', async () => {
    await start();
    await waitForProjection(bed.db.pool, 'address_view');
    await stopAll();
    const c = commands(bed.ledger);
    for (let i = 0; i < 3; i++) await c.register({ line1: `${i} Lag Street` });

    const stopped = await getProjectionStatus(bed.db.pool);
    const view = stopped.projections.find((p) => p.name === 'address_view')!;
    expect(view.lagEvents).toBe(3);
    // The age of the oldest unapplied event: above zero, and growing while nothing projects.
    expect(view.lagSeconds).toBeGreaterThan(0);
    await waitFor('the lag in seconds to grow while the worker is stopped', async () => {
      const later = (await getProjectionStatus(bed.db.pool)).projections.find((p) => p.name === 'address_view')!;
      return later.lagSeconds > view.lagSeconds && later.lagEvents === 3;
    });
    expect(view.alive).toBe(false);
    expect(stopped.head).toBe(
      (await allEvents(bed.db.pool)).reduce((m, e) => Math.max(m, Number(e.position)), 0).toString(),
    );

    await start();
    await waitForProjection(bed.db.pool, 'address_view');
    const caughtUp = (await getProjectionStatus(bed.db.pool)).projections.find((p) => p.name === 'address_view')!;
    expect(caughtUp).toMatchObject({ lagEvents: 0, lagSeconds: 0, alive: true });
  });
});

describe('a failing batch', () => {
  let failingDb: TestDatabase;
  afterAll(async () => failingDb?.drop());

  // An event that cannot be applied parks its address (projections/parking.int.spec.ts); a batch
  // that cannot be written at all (the database refuses the commit) holds the projection.
  it('is retried with backoff, recorded as the last error, and never advances the checkpoint', async () => {
    failingDb = await createTestDatabase();
    const c = commands(createLedger(failingDb.prisma));
    await c.register({ line1: '1 Good Street' });
    await c.register({ line1: '2 Good Street' });
    const before = await readCheckpoint(failingDb.pool, 'address_view');
    const projector = await startProjector({
      databaseUrl: failingDb.url,
      projections: ['address_view'],
      pollMs: 100,
      backoff: { initialMs: 40, maxMs: 160 },
      log,
      hooks: {
        beforeCommit: async () => {
          throw new Error('could not write the batch: disk full');
        },
      },
    });
    bed.track(projector);
    const failing = await waitFor('three failed attempts', async () => {
      const cp = await readCheckpoint(failingDb.pool, 'address_view');
      return cp.errorCount >= 3 ? cp : null;
    });
    expect(failing.lastError).toMatch(/disk full/);
    expect(failing.cursor).toBe(before.cursor);
    // Backoff: 40 + 80 + 160 + 160 … ms. Spinning would rack up hundreds of attempts meanwhile.
    const t0 = Date.now();
    const later = await waitFor('two more attempts', async () => {
      const cp = await readCheckpoint(failingDb.pool, 'address_view');
      return cp.errorCount >= failing.errorCount + 2 ? cp : null;
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(later.cursor).toBe(before.cursor);
    const status = await getProjectionStatus(failingDb.pool);
    expect(status.projections.find((p) => p.name === 'address_view')).toMatchObject({ failing: true, lagEvents: 2 });
  });
});

// The store once ordered transaction ids as text ('1000' < '999'), so a cursor could skip the
// earlier transaction for good once ids gained a digit (fixed in 0317e00). End to end, for the
// projector: the two events land in different batches across the boundary.
describe('the projector across a transaction-id digit boundary', () => {
  it('projects every event when transaction ids gain a digit between two appends', async () => {
    const c = commands(bed.ledger);
    const before = await c.register({ line1: '1 Before Street' });
    await burnTransactionIdsToNextPowerOfTen(bed.db.pool);
    const after = await c.register({ line1: '1 After Street' });
    // Started only now, so both events are waiting to be read, one per batch.
    await start({ batchSize: 1 });
    await waitForProjection(bed.db.pool, 'address_view');
    const view = await addressViewDocs(bed.db.pool);
    expect({ before: view.has(before), after: view.has(after) }).toEqual({ before: true, after: true });
  });
});
