import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { advisoryLock, advisoryUnlock } from '@/lib/advisory-locks';
import { importAddresses } from '@/lib/import-addresses';
import { createLedger, type Ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import { projectionPacer } from './pacing';
import { ownerLockName } from './runner';
import { readSample, sampleAddressFields } from './search/fixtures/sample';

let db: TestDatabase;
let ledger: Ledger;
beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

const actor = { id: 'system:test', name: 'Pacing test', role: 'system' as const };
const rows = (from: number, n: number) =>
  readSample()
    .slice(from, from + n)
    .map((row, i) => ({ row: i + 1, key: row.id, fields: sampleAddressFields(row) }));
const head = async () =>
  Number((await db.pool.query<{ p: string }>('SELECT max(position)::text AS p FROM events')).rows[0]!.p);
/** Where a projection's checkpoint stands, as the projector would have left it. */
const checkpointAt = (name: string, position: number) =>
  db.pool.query('UPDATE projection_checkpoints SET position = $2 WHERE name = $1', [name, position]);

/** A running projector, as far as the pacer can tell: a session holding the projection's owner lock. */
async function runningProjection(name: string) {
  const client = await db.pool.connect();
  await advisoryLock(client, ownerLockName(name));
  return async () => {
    await advisoryUnlock(client, ownerLockName(name));
    client.release();
  };
}

describe('projectionPacer', () => {
  it('waits while a running projection is more than maxLag behind, until it is within half of it', async () => {
    expect((await importAddresses(ledger, rows(0, 30), { source: 'pace-1', actor })).registered).toBe(30);
    const stop = await runningProjection('address_view');
    try {
      await checkpointAt('address_view', (await head()) - 25);
      const waits: unknown[] = [];
      let resumed = false;
      let looks = 0;
      const counted = {
        query: ((...args: Parameters<typeof db.pool.query>) => {
          looks++;
          return db.pool.query(...args);
        }) as typeof db.pool.query,
      };
      const pace = projectionPacer(counted, { maxLag: 10, pollMs: 10, onWait: (lag) => waits.push(lag) });
      const done = pace().then(() => {
        resumed = true;
      });
      await waitFor('the pacer to wait', async () => waits.length === 1);
      expect(waits).toEqual([expect.objectContaining({ projection: 'address_view', events: 25 })]);
      // Within maxLag is not enough to go on: within half of it is.
      await checkpointAt('address_view', (await head()) - 8);
      const seen = looks;
      await waitFor('the pacer to look twice more', async () => looks >= seen + 2);
      expect(resumed).toBe(false);
      await checkpointAt('address_view', (await head()) - 5);
      await done;
      expect(resumed).toBe(true);
    } finally {
      await stop();
    }
  });

  it('does not wait for a running projection whose last batch failed (its search backend is down)', async () => {
    const stop = await runningProjection('address_search');
    try {
      await checkpointAt('address_search', 0);
      await db.pool.query("UPDATE projection_checkpoints SET error_count = 3 WHERE name = 'address_search'");
      const waits: unknown[] = [];
      await projectionPacer(db.pool, { maxLag: 1, onWait: (lag) => waits.push(lag) })();
      expect(waits).toEqual([]);
    } finally {
      await db.pool.query("UPDATE projection_checkpoints SET error_count = 0 WHERE name = 'address_search'");
      await stop();
    }
  });

  it('gives up waiting for a running projection that stops moving', async () => {
    const stop = await runningProjection('address_view');
    try {
      await checkpointAt('address_view', 0);
      const ends: Array<{ stalled: unknown }> = [];
      await projectionPacer(db.pool, { maxLag: 1, pollMs: 10, stallMs: 100, onResume: (end) => ends.push(end) })();
      expect(ends).toEqual([
        { waitedMs: expect.any(Number), stalled: expect.objectContaining({ projection: 'address_view', position: 0 }) },
      ]);
    } finally {
      await stop();
    }
  });

  it('refuses a maxLag that is not a number of events', () => {
    expect(() => projectionPacer(db.pool, { maxLag: Number.NaN })).toThrow(RangeError);
    expect(() => projectionPacer(db.pool, { maxLag: -1 })).toThrow(RangeError);
  });

  it('does not wait for a projection nobody is running, however far behind', async () => {
    await checkpointAt('address_view', 0);
    await checkpointAt('address_search', 0);
    const waits: unknown[] = [];
    await projectionPacer(db.pool, { maxLag: 1, onWait: (lag) => waits.push(lag) })();
    expect(waits).toEqual([]);
  });
});

describe('importAddresses with a projector that falls behind', () => {
  it('holds its next batch until the running projection catches up, then finishes', async () => {
    const stop = await runningProjection('address_search');
    try {
      const start = await head();
      await checkpointAt('address_search', start);
      const info = vi.spyOn(logger, 'info');
      let finished = false;
      const run = importAddresses(ledger, rows(100, 40), {
        source: 'pace-2',
        actor,
        batchSize: 10,
        inFlight: 1,
        maxProjectionLag: 15,
      }).then((summary) => {
        finished = true;
        return summary;
      });
      // 10 rows, 20 rows: then the projection is 20 behind and the third batch waits.
      await waitFor('the import to wait', async () =>
        info.mock.calls.some(([, msg]) => msg === 'import waiting for the projector'),
      );
      expect(await head()).toBe(start + 20);
      expect(finished).toBe(false);
      // The projector moves on: the import goes on and ends.
      const advance = setInterval(() => {
        head()
          .then((p) => checkpointAt('address_search', p))
          .catch(() => {});
      }, 20);
      const summary = await run.finally(() => clearInterval(advance));
      expect(summary.registered).toBe(40);
      expect(await head()).toBe(start + 40);
    } finally {
      vi.restoreAllMocks();
      await stop();
    }
  });
});
