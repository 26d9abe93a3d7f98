import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import { commands, waitForProjection } from './testing';
import { startProjector } from './worker';

// prisma/schema.prisma is kept in step with the SQL migrations by hand; these read every column
// of the read-side models through Prisma, so a renamed or retyped column fails here.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await commands(createLedger(db.prisma)).register({ line1: '5 Model Street', line2: 'Apt 2', owner: 'Prisma' });
  const index = createPostgresSearchIndex({ connectionString: db.url });
  const projector = await startProjector({ databaseUrl: db.url, searchIndex: index, log: logger });
  await waitForProjection(db.pool, 'address_view');
  await waitForProjection(db.pool, 'address_search');
  await projector.stop();
  await index.close();
});
afterAll(async () => db?.drop());

describe('the Prisma models of the read side', () => {
  it('read every column of address_view, address_search and projection_checkpoints', async () => {
    const view = await db.prisma.addressView.findFirstOrThrow();
    const raw = (await db.pool.query('SELECT * FROM address_view')).rows[0];
    expect(Object.keys(view)).toHaveLength(Object.keys(raw).length);
    expect(view).toMatchObject({
      line1: '5 Model Street',
      line2: 'Apt 2',
      owner: 'Prisma',
      version: 1,
      status: 'active',
    });
    expect(view.lastPosition).toBe(BigInt(raw.last_position));

    const search = await db.prisma.addressSearch.findFirstOrThrow();
    const rawSearch = (await db.pool.query('SELECT * FROM address_search')).rows[0];
    // search_tsv is Unsupported("tsvector") in Prisma: present in the table, not readable by the client.
    expect(Object.keys(search)).toHaveLength(Object.keys(rawSearch).length - 1);
    expect(search.searchText).toBe(rawSearch.search_text);

    const checkpoints = await db.prisma.projectionCheckpoint.findMany({ orderBy: { name: 'asc' } });
    expect(checkpoints.map((c) => c.name)).toEqual(['address_search', 'address_view']);
    expect(checkpoints.every((c) => c.eventsProcessed === 1n && c.errorCount === 0)).toBe(true);
  });
});
