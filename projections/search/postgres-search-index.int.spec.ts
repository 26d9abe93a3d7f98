import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { createTableCopy, dropTable } from '../table-swap';
import { searchIndexContract } from './contract';
import { createPostgresSearchIndex, POSTGRES_SEARCH_TABLE } from './postgres-search-index';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

searchIndexContract('Postgres', {
  async create(options) {
    // A copy of the migrated table per run: same columns, generated columns and indexes.
    const table = `${POSTGRES_SEARCH_TABLE}_${randomBytes(4).toString('hex')}`;
    const client = await db.pool.connect();
    await createTableCopy(client, POSTGRES_SEARCH_TABLE, table).finally(() => client.release());
    const index = createPostgresSearchIndex({ connectionString: db.url, table, ...options });
    await index.setup();
    return {
      index,
      async dispose() {
        await index.close();
        const c = await db.pool.connect();
        await dropTable(c, table).finally(() => c.release());
      },
    };
  },
});
