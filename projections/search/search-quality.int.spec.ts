import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { readSample, type SampleRow, sampleDoc } from './fixtures/sample';
import { createMeilisearchIndex } from './meilisearch-search-index';
import { createPostgresSearchIndex } from './postgres-search-index';
import type { SearchIndex, SearchQuery } from './search-index';

/**
 * Search quality on real Maine / New Hampshire addresses (fixtures/, © OpenStreetMap
 * contributors, ODbL). Each query was written by looking at one row of the sample and typing it
 * the way a person would: abbreviated, misspelt, half-typed, by ZIP, or narrowed by a city filter.
 *
 * recall@5 per query = |relevant ∩ top 5| / min(5, |relevant|): 1 when the one wanted address is
 * among the first five; for a query many addresses answer (a ZIP alone) the share of the first
 * five that are right. The suite reports the mean and fails on any miss not listed as known.
 */

type Relevant = string | ((row: SampleRow) => boolean);
interface QualityQuery {
  kind: 'abbreviation' | 'typo' | 'short typo' | 'partial' | 'zip' | 'city filter' | 'hard' | 'full';
  q: string;
  city?: string;
  relevant: Relevant;
}

const id = (n: string) => `menh-${n}`;
/** Every row of a street in a city; the data spells some streets both ways ("Western Ave(nue)"). */
const street = (name: RegExp, city: string) => (r: SampleRow) => name.test(r.street) && r.city === city;

const QUERIES: QualityQuery[] = [
  // Street types and directions abbreviated (the sample spells them out).
  { kind: 'abbreviation', q: '3 State St', relevant: id('068883') },
  { kind: 'abbreviation', q: '22 Birch St', relevant: id('031751') },
  { kind: 'abbreviation', q: '4 Pine St Augusta', relevant: id('010962') },
  { kind: 'abbreviation', q: '9 Bruce Rd', relevant: id('105925') },
  { kind: 'abbreviation', q: '85 Downing Rd', relevant: id('019345') },
  { kind: 'abbreviation', q: '254 Western Ave', relevant: id('012153') },
  { kind: 'abbreviation', q: '84 Grandview Ave', relevant: id('008246') },
  { kind: 'abbreviation', q: '140 Randolph Dr', relevant: id('017461') },
  { kind: 'abbreviation', q: '100 Lavalley Rd', relevant: id('083130') },
  { kind: 'abbreviation', q: '297 Cony Rd', relevant: id('014357') },
  { kind: 'abbreviation', q: '4 Carolina Dr', relevant: id('111498') },
  { kind: 'abbreviation', q: '6 Katie Ln', relevant: id('121348') },
  { kind: 'abbreviation', q: '3 Ash Ct', relevant: id('109514') },
  { kind: 'abbreviation', q: '2 Prospect Ave Nashua', relevant: id('107477') },
  { kind: 'abbreviation', q: '111 N Main St', relevant: id('067125') },
  { kind: 'abbreviation', q: '332 14th St', relevant: id('020371') },
  { kind: 'abbreviation', q: '26 2nd St Lewiston', relevant: id('053254') },
  { kind: 'abbreviation', q: '163 Hildreth St N', relevant: id('021844') },
  { kind: 'abbreviation', q: '6 Smokey Ln', relevant: id('116023') },
  { kind: 'abbreviation', q: '143 Main Street Unit 1 Saco', relevant: id('069708') },
  // Misspelt.
  { kind: 'typo', q: '5 Glenwod Street', relevant: id('015236') },
  { kind: 'typo', q: '954 Brnt Street', relevant: id('101754') },
  { kind: 'typo', q: '6 Mitchel Street Eastport', relevant: id('045092') },
  { kind: 'typo', q: '58 Divison St', relevant: id('018431') },
  { kind: 'typo', q: '752 New Dam Raod', relevant: id('082994') },
  { kind: 'typo', q: '39 Watr Street Gardiner', relevant: id('051023') },
  { kind: 'typo', q: '120 Bowres Street', relevant: id('114879') },
  { kind: 'typo', q: '65 Jelerson Rd', relevant: id('080317') },
  { kind: 'typo', q: '32 Centrall St Ellsworth', relevant: id('045882') },
  { kind: 'typo', q: '7 Cotage Street Bangor', relevant: id('027176') },
  { kind: 'typo', q: '28 Kevn Street', relevant: id('060784') },
  { kind: 'typo', q: '30 Rivr St Sanford', relevant: id('082451') },
  { kind: 'typo', q: '32 Farin Street Bath', relevant: id('030071') },
  { kind: 'typo', q: '16 Edmateric Dr', relevant: id('116013') },
  { kind: 'typo', q: '13 Alise Dr Nashua', relevant: id('122774') },
  { kind: 'typo', q: '32 Peirce Rd Brewer', relevant: id('039919') },
  { kind: 'typo', q: 'chesnut street', relevant: (r) => /Chestnut St(reet)?$/.test(r.street) },
  // Letters swapped or missing in short words, where trigrams fail ("mian" shares one trigram of
  // five with "main"): corrected against the index's own words (spelling.ts).
  // Any Main Street ("300 North Main st" is how the full data set spells one).
  { kind: 'short typo', q: 'mian street', relevant: (r) => /Main St(reet)?$/i.test(r.street) },
  { kind: 'short typo', q: 'mian st', relevant: (r) => /Main St(reet)?$/i.test(r.street) },
  { kind: 'short typo', q: 'main stret', city: 'Bangor', relevant: street(/Main St(reet)?$/, 'Bangor') },
  { kind: 'short typo', q: '208 mian street', relevant: id('007179') },
  { kind: 'short typo', q: '52 Mian St Bangor', relevant: id('016103') },
  { kind: 'short typo', q: '467 Hgih Street', relevant: id('028325') },
  { kind: 'short typo', q: '343 Pien St', relevant: id('061693') },
  { kind: 'short typo', q: '212 Watr Stret', relevant: id('009216') },
  { kind: 'short typo', q: '108 Elm Sreet', relevant: id('024542') },
  { kind: 'short typo', q: '70 Mapel Street', relevant: id('021341') },
  { kind: 'short typo', q: '49 Prak St Bangor', relevant: id('016394') },
  { kind: 'short typo', q: '58 Uinon Street', relevant: id('031526') },
  { kind: 'short typo', q: '41 Shcool St', relevant: id('008634') },
  { kind: 'short typo', q: '229 Cneter Street', relevant: id('004560') },
  { kind: 'short typo', q: '89 Cuort St', relevant: id('026094') },
  { kind: 'short typo', q: '428 Midle Street', relevant: id('028616') },
  // Typed halfway (prefix as you type).
  { kind: 'partial', q: '69 Autum', relevant: id('046561') },
  { kind: 'partial', q: '351 Bolton Hil', relevant: id('010768') },
  { kind: 'partial', q: '114 Veazi', relevant: id('065670') },
  { kind: 'partial', q: '20 Prat', relevant: id('110568') },
  { kind: 'partial', q: '10 Ocean Edg', relevant: id('039530') },
  { kind: 'partial', q: '36 Pine Hav', relevant: id('074665') },
  { kind: 'partial', q: '78 Cannongate', relevant: id('107962') },
  { kind: 'partial', q: '630 Leigh', relevant: id('012320') },
  { kind: 'partial', q: '25 Brint', relevant: id('111163') },
  { kind: 'partial', q: '405 Western', relevant: id('012246') },
  { kind: 'partial', q: '8 Boothby', relevant: id('098036') },
  { kind: 'partial', q: '16 Devco', relevant: id('104567') },
  { kind: 'partial', q: '17 Grove Av', relevant: id('086622') },
  { kind: 'partial', q: '188 Ferry', relevant: id('074048') },
  { kind: 'partial', q: '88b bowers', relevant: id('108031') },
  { kind: 'partial', q: '172 Coburn Wo', relevant: id('126004') },
  // A ZIP code alone, or with a word of the street.
  { kind: 'zip', q: '04841', relevant: (r) => r.postal_code.startsWith('04841') },
  { kind: 'zip', q: '03063', relevant: (r) => r.postal_code.startsWith('03063') },
  { kind: 'zip', q: '04605', relevant: (r) => r.postal_code.startsWith('04605') },
  { kind: 'zip', q: '04468', relevant: (r) => r.postal_code.startsWith('04468') },
  { kind: 'zip', q: '04330 western', relevant: street(/^Western Ave(nue)?$/, 'Augusta') },
  // Narrowed by the city filter.
  { kind: 'city filter', q: 'main st', city: 'Rockland', relevant: street(/Main St(reet)?$/, 'Rockland') },
  { kind: 'city filter', q: '117 high st', city: 'Sanford', relevant: id('082354') },
  { kind: 'city filter', q: '3 east st', city: 'Sanford', relevant: id('079972') },
  { kind: 'city filter', q: 'western ave', city: 'augusta', relevant: street(/^Western Ave(nue)?$/, 'Augusta') },
  { kind: 'city filter', q: '9 washington', city: 'Augusta', relevant: id('011156') },
  { kind: 'city filter', q: 'jalbert', city: 'Nashua', relevant: street(/^Jalbert (Drive|Dr)$/, 'Nashua') },
  { kind: 'city filter', q: '134 high', city: 'South Portland', relevant: id('089338') },
  { kind: 'city filter', q: '15 maple', city: 'Hallowell', relevant: id('051993') },
  // Harder: how people actually write addresses (state names, punctuation, words run together or
  // apart, a typo in the first letter or in a short word, an unknown abbreviation).
  { kind: 'hard', q: '4 Pine St, Augusta, Maine 04330', relevant: id('010962') },
  { kind: 'hard', q: '111 North Main Street, Rockland, ME 04841', relevant: id('067125') },
  { kind: 'hard', q: '204 Mt Vernon Rd', relevant: id('013678') },
  { kind: 'hard', q: '25 Saint Mary St', relevant: id('033175') },
  { kind: 'hard', q: '17 Orchard Hills Pky', relevant: id('020565') },
  { kind: 'hard', q: '80 3rd St Auburn', relevant: id('000001') },
  { kind: 'hard', q: '7 Pine Tree Drive', relevant: id('083033') },
  { kind: 'hard', q: '10 Oceanedge Lane', relevant: id('039530') },
  { kind: 'hard', q: '297 Kony Road', relevant: id('014357') },
  { kind: 'hard', q: '9 Burce Rd', relevant: id('105925') },
  { kind: 'hard', q: '143 Main St Apt 1 Saco', relevant: id('069708') },
  { kind: 'hard', q: 'Spruce Street 30 Calais', relevant: id('043555') },
  { kind: 'hard', q: '04481', relevant: (r) => r.postal_code.startsWith('04841') },
  // Written out in full, as a baseline.
  { kind: 'full', q: '30 Spruce Street Calais', relevant: id('043555') },
  { kind: 'full', q: '7 Pinetree Drive', relevant: id('083033') },
  { kind: 'full', q: '100 Airport Road Old Town', relevant: id('063730') },
  { kind: 'full', q: '486 Elm Street Biddeford', relevant: id('039189') },
  { kind: 'full', q: '63 West Street Bangor', relevant: id('026776') },
  { kind: 'full', q: '8 Jordan Street Saco', relevant: id('074415') },
  { kind: 'full', q: '62 Dorchester Way', relevant: id('118798') },
];

/**
 * The worst misses, kept here as known cases (query → why). A miss not on this list fails the
 * suite; a known miss that starts passing is reported so the list can shrink.
 */
const KNOWN_MISSES: Record<string, string> = {
  '04481': 'a typo in a ZIP code: numbers match exactly or as a prefix, never fuzzily (04481 vs 04841)',
};

const MIN_RECALL_AT_5 = 0.98;

const rows: SampleRow[] = readSample(process.env.SEARCH_QUALITY_CSV || undefined);

/** Loads the sample into a fresh index of each backend; Meilisearch only where MEILI_URL is set. */
const BACKENDS: Array<{
  name: string;
  skip: boolean;
  create(): Promise<{ index: SearchIndex; dispose(): Promise<void> }>;
}> = [
  {
    name: 'Postgres',
    skip: false,
    async create() {
      const db: TestDatabase = await createTestDatabase();
      const index = createPostgresSearchIndex({ connectionString: db.url });
      await index.upsert(rows.map((r) => sampleDoc(r)));
      // What autovacuum would have done by now on a live database; without statistics the planner
      // guesses, and the timings reported would describe a state production does not stay in.
      await db.pool.query('ANALYZE address_search');
      return {
        index,
        async dispose() {
          await index.close();
          await db.drop();
        },
      };
    },
  },
  {
    name: 'Meilisearch',
    skip: !process.env.MEILI_URL,
    async create() {
      const uid = `quality_${Date.now()}`;
      const index = createMeilisearchIndex({
        host: process.env.MEILI_URL!,
        apiKey: process.env.MEILI_API_KEY,
        indexUid: uid,
      });
      await index.setup();
      const docs = rows.map((r) => sampleDoc(r));
      for (let i = 0; i < docs.length; i += 5_000) await index.upsert(docs.slice(i, i + 5_000));
      return {
        index,
        async dispose() {
          const { Meilisearch } = await import('meilisearch');
          await new Meilisearch({
            host: process.env.MEILI_URL!,
            apiKey: process.env.MEILI_API_KEY,
          }).deleteIndexIfExists(uid);
        },
      };
    },
  },
];

describe.each(BACKENDS)('search quality on the Maine / New Hampshire sample ($name)', (backend) => {
  let index: SearchIndex;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    if (!backend.skip) ({ index, dispose } = await backend.create());
  }, 600_000);
  afterAll(async () => dispose?.());

  it.skipIf(backend.skip)(
    `finds what people type: recall@5 of at least ${MIN_RECALL_AT_5} over ${QUERIES.length} queries, no unknown miss`,
    async () => {
      expect(QUERIES.length).toBeGreaterThanOrEqual(50);
      const results: Array<{ query: QualityQuery; recall: number; top: string[]; ms: number }> = [];
      for (const query of QUERIES) {
        const relevant = new Set(
          rows
            .filter((r) => (typeof query.relevant === 'string' ? r.id === query.relevant : query.relevant(r)))
            .map((r) => r.id),
        );
        expect(relevant.size, `query "${query.q}" names rows of the sample`).toBeGreaterThan(0);
        const search: SearchQuery = { q: query.q, city: query.city, sort: 'relevance', page: 1, perPage: 5 };
        const started = performance.now();
        const { hits } = await index.search(search);
        const ms = performance.now() - started;
        const found = hits.filter((h) => relevant.has(h.id)).length;
        results.push({
          query,
          recall: found / Math.min(5, relevant.size),
          top: hits.map((h) => `${h.line1}, ${h.city}`),
          ms,
        });
      }

      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const recall = mean(results.map((r) => r.recall));
      const byKind: Record<string, typeof results> = {};
      for (const r of results) byKind[r.query.kind] = [...(byKind[r.query.kind] ?? []), r];
      const misses = results.filter((r) => r.recall < 1).sort((a, b) => a.recall - b.recall);
      const lines = [
        `recall@5 = ${recall.toFixed(3)} over ${results.length} queries (${backend.name} search, ${rows.length} addresses)`,
        ...Object.entries(byKind).map(
          ([kind, rs]) => `  ${kind.padEnd(13)} ${mean(rs.map((r) => r.recall)).toFixed(3)}  (${rs.length} queries)`,
        ),
        `  mean query time ${mean(results.map((r) => r.ms)).toFixed(1)} ms; slowest: ${[...results]
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 3)
          .map((r) => `"${r.query.q}" ${r.ms.toFixed(0)} ms`)
          .join(', ')}`,
        ...misses.map(
          (m) =>
            `  miss ${m.recall.toFixed(2)} "${m.query.q}"${m.query.city ? ` [city=${m.query.city}]` : ''} → ${m.top.join(' | ') || '(nothing)'}`,
        ),
      ];
      console.warn(lines.join('\n'));
      for (const q of Object.keys(KNOWN_MISSES)) {
        if (!misses.some((m) => m.query.q === q)) console.warn(`  known miss "${q}" was found in this run`);
      }

      expect(misses.map((m) => m.query.q).filter((q) => !(q in KNOWN_MISSES))).toEqual([]);
      expect(recall).toBeGreaterThanOrEqual(MIN_RECALL_AT_5);
    },
    120_000,
  );
});
