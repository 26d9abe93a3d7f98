import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { replayAddresses } from './address-view/projection';
import { readCheckpoint } from './checkpoints';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import { getProjectionStatus } from './status';
import { addressViewDocs, allEvents, tcpProxy, waitFor, waitForProjection, writeHistory } from './testing';
import { startProjector } from './worker';

let db: TestDatabase;
let ledger: Ledger;

beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
});
afterAll(async () => db?.drop());

describe('a search backend outage', () => {
  it('never blocks commands or address_view, and once the backend is back the index catches up losing nothing', async () => {
    // The search index reaches its database through a proxy the test can cut.
    const proxy = await tcpProxy(db.url);
    const viaProxy = createPostgresSearchIndex({ connectionString: proxy.url });
    const direct = createPostgresSearchIndex({ connectionString: db.url });
    const projector = await startProjector({
      databaseUrl: db.url,
      searchIndex: viaProxy,
      pollMs: 100,
      batchSize: 20,
      backoff: { initialMs: 50, maxMs: 400 },
      log: logger.child({ test: 'search-outage' }),
    });
    try {
      await writeHistory(ledger, 5, 'before');
      await waitForProjection(db.pool, 'address_search');

      await proxy.down();
      // Commands never touch the search index: they all succeed while it is unreachable.
      const during = await writeHistory(ledger, 12, 'during');
      expect(during).toHaveLength(12);
      await waitForProjection(db.pool, 'address_view');
      expect([...(await addressViewDocs(db.pool)).keys()]).toEqual(expect.arrayContaining(during));

      const failing = await waitFor('the search projection to record failures', async () => {
        const cp = await readCheckpoint(db.pool, 'address_search');
        return cp.errorCount >= 2 ? cp : null;
      });
      expect(failing.lastError).toMatch(/ECONNREFUSED|connect|terminated|timeout/i);
      const status = (await getProjectionStatus(db.pool)).projections.find((p) => p.name === 'address_search')!;
      expect(status).toMatchObject({ failing: true, alive: true });
      expect(status.lagEvents).toBeGreaterThan(0);
      expect((await direct.getDocuments(during)).size).toBe(0);

      await proxy.up();
      await waitForProjection(db.pool, 'address_search', { timeoutMs: 30_000 });
      const expected = replayAddresses(await allEvents(db.pool));
      expect(await direct.getDocuments([...expected.keys()])).toEqual(expected);
      const recovered = (await getProjectionStatus(db.pool)).projections.find((p) => p.name === 'address_search')!;
      expect(recovered).toMatchObject({ failing: false, lagEvents: 0 });
    } finally {
      await projector.stop();
      await Promise.all([viaProxy.close(), direct.close()]);
      await proxy.close();
    }
  });
});
