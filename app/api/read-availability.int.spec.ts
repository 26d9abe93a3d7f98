import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, revokeApiTokenByName } from '@/lib/auth/tokens';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import type { SearchIndex } from '@/projections/search/search-index';
import { waitForProjection } from '@/projections/testing';
import { type Projector, startProjector } from '@/projections/worker';
import { call, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { type TcpProxy, tcpProxy } from '@/test/tcp-proxy';
import * as addressesRoute from './addresses/route';
import * as healthRoute from './health/route';

/**
 * DESIGN §5/§6: with the search index on its own infrastructure (Meilisearch in production), the
 * search API keeps answering while the event store's database is down, and health says the
 * database is down rather than pretending all is well. Here the search index is a Postgres one
 * reached on its own connection (SEARCH_DATABASE_URL), standing in for Meilisearch, while the
 * app's DATABASE_URL goes through a proxy we can cut.
 */

let db: TestDatabase;
let proxy: TcpProxy;
let index: SearchIndex;
let projector: Projector | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await tcpProxy(db.url);
  process.env.DATABASE_URL = proxy.url;
  process.env.SEARCH_DATABASE_URL = db.url;
  await provisionCallers(db.prisma);
  index = createPostgresSearchIndex({ connectionString: db.url });
  projector = await startProjector({ databaseUrl: db.url, searchIndex: index, pollMs: 100, lockRetryMs: 50 });
});

afterAll(async () => {
  delete process.env.SEARCH_DATABASE_URL;
  await projector?.stop();
  await index?.close?.();
  await proxy?.close();
  await db?.drop();
});

const search = (as: 'auditor' | 'operator' = 'auditor', headers: Record<string, string> = {}) =>
  call(addressesRoute.GET, { path: '/api/addresses?q=exchange+street', as, headers });

describe('while the database is down', () => {
  it('search still answers from the index for a caller verified before the outage', async () => {
    const created = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body: { line1: '90 Exchange Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' },
    });
    expect(created.status).toBe(201);
    await waitForProjection(db.pool, 'address_search');
    const before = await search();
    expect(before.status).toBe(200);
    expect(before.body.hits.map((h: { id: string }) => h.id)).toContain(created.body.id);

    await proxy.down();
    try {
      const during = await search();
      expect(during.status).toBe(200);
      expect(during.body.hits.map((h: { id: string }) => h.id)).toContain(created.body.id);
      // How far behind the index is needs the database: unknown, not an error.
      expect(during.body.lag).toBeNull();

      const health = await call(healthRoute.GET, { path: '/api/health' });
      expect(health.status).toBe(503);
      expect(health.body.checks.db.status).toBe('down');
      expect(health.body.checks.search.status).toBe('ok');

      // Writes need the database: a clear 503 in the documented shape, never a bare 500.
      const write = await call(addressesRoute.POST, {
        path: '/api/addresses',
        body: { line1: '1 Outage Street', city: 'Portland', postalCode: '04101', country: 'US' },
      });
      expect(write.status).toBe(503);
      expect(write.body.error.code).toBe('service_unavailable');

      // A credential never verified before cannot be checked now.
      const stranger = await search('auditor', { authorization: `Bearer ${generateToken()}` });
      expect(stranger.status).toBe(503);
    } finally {
      await proxy.up();
    }
  });

  it('a token revoked once the database is back is refused on the next request', async () => {
    expect((await search('operator')).status).toBe(200);
    await revokeApiTokenByName(db.prisma, 'test-operator');
    const after = await search('operator');
    expect(after.status).toBe(401);
  });
});
