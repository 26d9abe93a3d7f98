import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { searchIndexContract } from './contract';
import { createMeilisearchIndex } from './meilisearch-search-index';

// No Meilisearch server can run on the build machines; this suite runs wherever MEILI_URL points
// at one (see projections/README.md):
//   MEILI_URL=http://127.0.0.1:7700 MEILI_API_KEY=… npx vitest run --project int meilisearch
describe.skipIf(!process.env.MEILI_URL)('Meilisearch adapter', () => {
  searchIndexContract('Meilisearch', {
    async create() {
      const uid = `contract_${randomBytes(4).toString('hex')}`;
      const options = { host: process.env.MEILI_URL!, apiKey: process.env.MEILI_API_KEY, indexUid: uid };
      const index = createMeilisearchIndex(options);
      await index.setup();
      return {
        index,
        async dispose() {
          const { Meilisearch } = await import('meilisearch');
          await new Meilisearch({ host: options.host, apiKey: options.apiKey }).deleteIndexIfExists(uid);
        },
      };
    },
  });
});
