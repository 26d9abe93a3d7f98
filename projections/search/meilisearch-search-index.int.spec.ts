import { randomBytes } from 'node:crypto';
import { Meilisearch } from 'meilisearch';
import { describe } from 'vitest';
import { searchIndexContract } from './contract';
import { createMeilisearchIndex } from './meilisearch-search-index';

// No Meilisearch server can run on the build machines; this suite runs wherever MEILI_URL points
// at one (projections/README.md, "Running the Meilisearch suites"):
//   MEILI_URL=http://127.0.0.1:7700 MEILI_API_KEY=… npx vitest run --project int projections/search
describe.skipIf(!process.env.MEILI_URL)('Meilisearch adapter', () => {
  searchIndexContract('Meilisearch', {
    async create(options) {
      const uid = `contract_${randomBytes(4).toString('hex')}`;
      const host = process.env.MEILI_URL!;
      const apiKey = process.env.MEILI_API_KEY;
      const index = createMeilisearchIndex({ host, apiKey, indexUid: uid, ...options });
      await index.setup();
      return {
        index,
        async dispose() {
          // The rebuild test swapped a copy in and deleted it; what is left is this uid (or nothing).
          await new Meilisearch({ host, apiKey }).deleteIndexIfExists(uid);
        },
      };
    },
  });
});
