import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import type { AddressDoc } from '../address-view/projection';
import { doc, searchIndexContract } from './contract';
import {
  createPostgresSearchIndex,
  POSTGRES_SEARCH_TABLE,
  type PostgresSearchIndexOptions,
  wordsTableOf,
} from './postgres-search-index';
import type { SearchIndex, SearchQuery } from './search-index';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

/** A fresh index on its own copy of the migrated tables (the contract's and this file's). */
async function freshIndex(options: Omit<PostgresSearchIndexOptions, 'connectionString' | 'table'> = {}) {
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
  const index = createPostgresSearchIndex({ ...options, connectionString: db.url, table });
  await index.setup();
  return {
    index,
    async dispose() {
      await index.close();
      await db.ownerPool.query(`DROP TABLE IF EXISTS ${table}, ${table}_rebuild, ${words}, ${words}_rebuild`);
      await db.ownerPool.query('DELETE FROM read_model_tables WHERE name = ANY($1)', [[table, words]]);
    },
  };
}

searchIndexContract('Postgres', { create: (options) => freshIndex(options) });

describe('a Postgres search over more matches than it reads', () => {
  // 30 addresses in Elmton (5 on Cedar Court), then 3 on Elmton Street elsewhere, written last
  // and updated first: neither the table's order nor the last update puts them first, only the ranking does.
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  const town = Array.from({ length: 30 }, (_, i) =>
    doc({
      line1: `${i + 1} ${i < 5 ? 'Cedar Court' : 'Birch Road'}`,
      city: 'Elmton',
      postalCode: '04001',
      country: 'US',
      updatedAt: at(100 + i),
    }),
  );
  const street = [1, 2, 3].map((n) =>
    doc({ line1: `${n} Elmton Street`, city: 'Oakham', postalCode: '04001', country: 'US', updatedAt: at(n) }),
  );
  let index: SearchIndex;
  let dispose: () => Promise<void>;
  const search = (query: Partial<SearchQuery>) => index.search({ sort: 'relevance', page: 1, perPage: 5, ...query });

  beforeAll(async () => {
    ({ index, dispose } = await freshIndex({ maxTotalHits: 5, candidateLimit: 20 }));
    await index.upsert([...town, ...street]);
  });
  afterAll(async () => dispose?.());

  it('counts exactly up to the cap and says "more" past it', async () => {
    expect(await search({ q: 'oakham' })).toMatchObject({ total: 3, totalIsCapped: false, facetsSample: null });
    // Exactly at the cap is still exact; one past it is a lower bound, with facets over every match.
    const five = await search({ q: 'cedar', city: 'elmton' });
    expect(five).toMatchObject({ total: 5, totalIsCapped: false, facetsSample: null });
    // 20…29 Birch Road ("2 Cedar Court" lacks "birch").
    const six = await search({ q: 'birch road 2' });
    expect(six).toMatchObject({ total: 5, totalIsCapped: true, facetsSample: null });
    expect(six.facets.city).toEqual({ Elmton: 10 });
    // Pages end at the cap.
    expect((await search({ q: 'birch', page: 2 })).hits).toEqual([]);
  });

  it('ranks the strongest matches first although it reads only some of them', async () => {
    const result = await search({ q: 'elmton' });
    expect(result).toMatchObject({ total: 5, totalIsCapped: true, facetsSample: 20 });
    // The three addresses with the word in their address lines, the table's last rows, lead.
    expect(result.hits.slice(0, 3).map((h) => h.id)).toEqual(street.map((d) => d.id).reverse());
    // Over a sample, each count is a lower bound of the true one.
    expect(result.facets.city.Oakham).toBe(3);
    expect(result.facets.city.Elmton).toBe(17);
  });

  it('lists the newest first, exactly, whatever it leaves unread', async () => {
    const result = await search({ sort: 'updated' });
    expect(result).toMatchObject({ total: 5, totalIsCapped: true, facetsSample: 20 });
    expect(result.hits.map((h) => h.id)).toEqual(
      town
        .slice(-5)
        .reverse()
        .map((d) => d.id),
    );
  });
});

describe('the Postgres index vocabulary', () => {
  const base: AddressDoc = {
    id: 'c0ffee00-0000-4000-8000-00000000abcd',
    streamId: 'address-c0ffee00-0000-4000-8000-00000000abcd',
    version: 1,
    status: 'active',
    line1: '5 Zebra Lane',
    line2: null,
    city: 'Quokkaville',
    region: null,
    postalCode: '04001',
    country: 'US',
    owner: null,
    archivedReason: null,
    registeredAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastEventType: 'AddressRegistered',
    lastPosition: '1',
    lastActor: { id: 'u', name: 'Vocabulary', role: 'operator' },
  };
  const counts = async () =>
    Object.fromEntries(
      (
        await db.pool.query<{ word: string; documents: number }>(
          `SELECT word, documents FROM address_search_words WHERE word IN ('zebra', 'yak', 'lane', 'quokkaville', 'ln')`,
        )
      ).rows.map((r) => [r.word, r.documents]),
    );

  it('counts the documents holding each word, following every new version and ignoring replays', async () => {
    const index = createPostgresSearchIndex({ connectionString: db.url });
    try {
      const twin = { ...base, id: 'c0ffee00-0000-4000-8000-00000000abce', line1: '7 Zebra Lane' };
      await index.upsert([base, twin]);
      expect(await counts()).toEqual({ zebra: 2, lane: 2, ln: 2, quokkaville: 2 });
      // A new version replaces its words; the twin keeps its own.
      await index.upsert([{ ...base, version: 2, line1: '5 Yak Lane' }]);
      expect(await counts()).toEqual({ zebra: 1, yak: 1, lane: 2, ln: 2, quokkaville: 2 });
      // Replayed (older or equal) versions change nothing, in the documents or the counts.
      await index.upsert([base, { ...base, version: 2, line1: '5 Yak Lane' }, twin]);
      expect(await counts()).toEqual({ zebra: 1, yak: 1, lane: 2, ln: 2, quokkaville: 2 });
      await index.upsert([{ ...twin, version: 2, line1: '7 Yak Lane' }]);
      expect(await counts()).toEqual({ zebra: 0, yak: 2, lane: 2, ln: 2, quokkaville: 2 });
      // A word no document holds any more is no correction: "zebar" is one swap from it.
      expect((await index.search({ q: 'zebar', sort: 'relevance', page: 1, perPage: 5 })).didYouMean).toBeNull();
      expect((await index.search({ q: 'yak lnae', sort: 'relevance', page: 1, perPage: 5 })).didYouMean).toBe(
        'yak lane',
      );
    } finally {
      await index.close();
    }
  });
});
