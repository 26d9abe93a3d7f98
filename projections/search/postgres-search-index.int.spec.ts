import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { searchIndexContract } from './contract';
import { createPostgresSearchIndex, POSTGRES_SEARCH_TABLE, wordsTableOf } from './postgres-search-index';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

searchIndexContract('Postgres', {
  async create(options) {
    // A copy of the migrated table per run: same columns, generated columns and indexes. Creating
    // a table is the owner's right, not the app's; registered as a read model so that its rebuild
    // copy may be made and swapped by the runtime role like the live one's.
    const table = `${POSTGRES_SEARCH_TABLE}_${randomBytes(4).toString('hex')}`;
    const words = wordsTableOf(table);
    for (const [copy, live] of [
      [table, POSTGRES_SEARCH_TABLE],
      [words, wordsTableOf(POSTGRES_SEARCH_TABLE)],
    ]) {
      await db.ownerPool.query(`CREATE TABLE ${copy} (LIKE ${live} INCLUDING ALL)`);
      await db.ownerPool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${copy} TO address_ledger_runtime`);
      await db.ownerPool.query('INSERT INTO read_model_tables (name) VALUES ($1)', [copy]);
    }
    const index = createPostgresSearchIndex({ connectionString: db.url, table, ...options });
    await index.setup();
    return {
      index,
      async dispose() {
        await index.close();
        await db.ownerPool.query(`DROP TABLE IF EXISTS ${table}, ${table}_rebuild, ${words}, ${words}_rebuild`);
        await db.ownerPool.query('DELETE FROM read_model_tables WHERE name = ANY($1)', [[table, words]]);
      },
    };
  },
});
