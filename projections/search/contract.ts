/**
 * The search index contract (tests only): one suite, run against every adapter, so the Postgres
 * default and Meilisearch in production answer the same questions the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressDoc } from '../address-view/projection';
import { MAX_FACET_VALUES, type SearchIndex, type SearchQuery } from './search-index';

export interface ContractTarget {
  /** A fresh, empty index (set up), and how to get rid of it; `maxTotalHits` lowers the total cap. */
  create(options?: { maxTotalHits?: number }): Promise<{ index: SearchIndex; dispose(): Promise<void> }>;
}

let seq = 0;
/** A document with a fresh id, updated a minute after the last one unless `updatedAt` says otherwise. */
export function doc(
  fields: Partial<AddressDoc> & Pick<AddressDoc, 'line1' | 'city' | 'postalCode' | 'country'>,
): AddressDoc {
  seq++;
  const id = fields.id ?? `c0ffee00-0000-4000-8000-${String(seq).padStart(12, '0')}`;
  const at = fields.updatedAt ?? new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString();
  return {
    id,
    streamId: `address-${id}`,
    version: 1,
    status: 'active',
    line2: null,
    region: null,
    owner: null,
    archivedReason: null,
    registeredAt: at,
    updatedAt: at,
    lastEventType: 'AddressRegistered',
    lastPosition: String(seq),
    lastActor: { id: 'u', name: 'Contract', role: 'operator' },
    ...fields,
  };
}

const ELM = { line1: '5 Elm Street', city: 'Burlington', region: 'VT', postalCode: '05401', country: 'US' };

export const CONTRACT_DOCS = {
  main12: doc({ line1: '12 Main Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' }),
  main120: doc({ line1: '120 Main Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' }),
  mainSt: doc({ line1: '12 Main St', city: 'Bangor', region: 'ME', postalCode: '04401', country: 'US' }),
  chestnut: doc({ line1: '7 Chestnut Street', city: 'Nashua', region: 'NH', postalCode: '03060', country: 'US' }),
  // One edit from "mian" like Main, but rarer; its state written out (ISO 3166-2 US-NH's name).
  mina: doc({ line1: '3 Mina Street', city: 'Dover', region: 'New Hampshire', postalCode: '03820', country: 'US' }),
  ocean: doc({ line1: '44 Ocean Avenue', city: 'Portland', region: 'ME', postalCode: '04103', country: 'US' }),
  poland: doc({ line1: '28 Poland Spring Road', city: 'Auburn', region: 'ME', postalCode: '04210', country: 'US' }),
  archived: doc({
    line1: '3 Old Mill Road',
    city: 'Bath',
    region: 'ME',
    postalCode: '04530',
    country: 'US',
    status: 'archived',
    archivedReason: 'demolished',
  }),
  berlin: doc({ line1: 'Hauptstraße 5', city: 'Berlin', region: 'Berlin', postalCode: '10115', country: 'DE' }),
  zurich: doc({ line1: 'Bahnhofstrasse 1', city: 'Zürich', region: 'ZH', postalCode: '8001', country: 'CH' }),
  ottawa: doc({
    line1: '24 Sussex Drive',
    line2: 'Suite 100',
    city: 'Ottawa',
    region: 'ON',
    postalCode: 'K1M 1M4',
    country: 'CA',
    owner: 'ACME Holdings',
  }),
  // Letters NFKD does not split (ø, ł, þ, ħ, æ): folded by normalize.ts on both sides.
  aarhus: doc({ line1: 'Søndergade 3', city: 'Aarhus', postalCode: '8000', country: 'DK' }),
  lodz: doc({ line1: 'ul. Łódzka 9', city: 'Kraków', postalCode: '30-001', country: 'PL' }),
  reykjavik: doc({ line1: 'Þingholtsstræti 5', city: 'Reykjavík', postalCode: '101', country: 'IS' }),
  qormi: doc({ line1: 'Triq Ħal Qormi 4', city: 'Qormi', postalCode: 'QRM 1000', country: 'MT' }),
  // The German "…str." abbreviation, written in the document this time.
  vienna: doc({ line1: 'Lindenstr. 8', city: 'Wien', postalCode: '1070', country: 'AT' }),
  // Same text: only the last update (then the id) can order them.
  elmOld: doc(ELM),
  elmNew: doc({ ...ELM, updatedAt: '2026-06-01T00:00:00.000Z' }),
  elmNewToo: doc({ ...ELM, updatedAt: '2026-06-01T00:00:00.000Z' }),
};
const ALL = Object.values(CONTRACT_DOCS);

/** 100 towns with one address each and one town with three: more facet values than are returned. */
const TOWNS = [
  ...Array.from({ length: 100 }, (_, i) =>
    doc({
      line1: `${i + 1} Mill Lane`,
      city: `Aaton ${String(i).padStart(3, '0')}`,
      postalCode: '05001',
      country: 'US',
    }),
  ),
  ...[1, 2, 3].map((n) => doc({ line1: `${n} Zeta Road`, city: 'Zeta', postalCode: '05002', country: 'US' })),
];

const q = (query: Partial<SearchQuery>): SearchQuery => ({ sort: 'relevance', page: 1, perPage: 20, ...query });

export function searchIndexContract(name: string, target: ContractTarget) {
  describe(`search index contract: ${name}`, () => {
    let index: SearchIndex;
    let dispose: () => Promise<void>;
    const ids = async (query: Partial<SearchQuery>) => (await index.search(q(query))).hits.map((h) => h.id);
    const D = CONTRACT_DOCS;

    beforeAll(async () => {
      ({ index, dispose } = await target.create());
      await index.upsert(ALL, { checkpoint: '1-1' });
    });
    afterAll(async () => dispose?.());

    it('returns stored documents by id, and nothing for unknown ids', async () => {
      const found = await index.getDocuments([D.main12.id, D.ottawa.id, 'no-such-id']);
      expect([...found.keys()].sort()).toEqual([D.main12.id, D.ottawa.id].sort());
      expect(found.get(D.ottawa.id)).toEqual(D.ottawa);
      expect((await index.versions()).size).toBe(ALL.length);
    });

    it('never replaces a document by an older or equally old version of it', async () => {
      const v2 = { ...D.chestnut, version: 2, line1: '9 Chestnut Street' };
      await index.upsert([v2]);
      await index.upsert([
        { ...D.chestnut, version: 1, line1: 'stale' },
        { ...v2, line1: 'same version' },
      ]);
      expect((await index.getDocuments([D.chestnut.id])).get(D.chestnut.id)?.line1).toBe('9 Chestnut Street');
      await index.upsert([{ ...D.chestnut, version: 3 }]);
      expect((await index.versions()).get(D.chestnut.id)).toBe(3);
    });

    it('finds a street typed partially, as the user types it', async () => {
      expect(await ids({ q: 'Poland Spr' })).toEqual([D.poland.id]);
      expect((await ids({ q: '12 Main Str' }))[0]).toBe(D.main12.id);
    });

    it('treats street-type abbreviations and full words as the same word', async () => {
      expect((await ids({ q: '12 Main St' })).slice(0, 2).sort()).toEqual([D.main12.id, D.mainSt.id].sort());
      expect(await ids({ q: '12 Main Street', city: 'Bangor' })).toEqual([D.mainSt.id]);
      expect(await ids({ q: 'ocean ave' })).toEqual([D.ocean.id]);
      expect(await ids({ q: 'sussex dr' })).toEqual([D.ottawa.id]);
    });

    it('tolerates a typo in a longer word', async () => {
      expect(await ids({ q: 'chesnut' })).toEqual([D.chestnut.id]);
      expect(await ids({ q: 'sussec drive' })).toEqual([D.ottawa.id]);
    });

    it('finds by postal code, and by postal-code prefix as a filter', async () => {
      expect(await ids({ q: '04210' })).toEqual([D.poland.id]);
      expect((await ids({ postalCode: '041' })).sort()).toEqual([D.main12.id, D.main120.id, D.ocean.id].sort());
      expect(await ids({ postalCode: 'k1m 1' })).toEqual([D.ottawa.id]);
    });

    it('filters by country, region and city ignoring case and accents, and by status', async () => {
      expect((await ids({ country: 'de' })).sort()).toEqual([D.berlin.id]);
      expect((await ids({ region: 'nh' })).sort()).toEqual([D.chestnut.id, D.mina.id].sort());
      expect(await ids({ city: 'ZURICH' })).toEqual([D.zurich.id]);
      expect(await ids({ status: 'archived' })).toEqual([D.archived.id]);
      expect(await ids({ q: 'main', city: 'portland' })).toHaveLength(2);
    });

    it('ranks the intended street first for a swapped or missing letter in a short word', async () => {
      const mains = [D.main12.id, D.main120.id, D.mainSt.id].sort();
      // "mian" is one swap from main (three addresses) and from mina (one): the commoner word wins.
      const mian = await ids({ q: 'mian street' });
      expect(mian.slice(0, 3).sort()).toEqual(mains);
      expect(mian).toContain(D.mina.id);
      expect((await ids({ q: 'mian st' })).slice(0, 3).sort()).toEqual(mains);
      expect(await ids({ q: '12 mian street', city: 'Portland' })).toEqual([D.main12.id, D.main120.id]);
      // A letter missing from "street", two ways.
      for (const query of ['main sreet', 'main stret', 'mian stret']) {
        expect((await ids({ q: query })).slice(0, 3).sort(), query).toEqual(mains);
      }
      expect(await ids({ q: 'chestnut sreet' })).toEqual([D.chestnut.id]);
      expect(await ids({ q: 'ocean avenu' })).toEqual([D.ocean.id]);
    });

    it('marks the word a typo matched', async () => {
      const [hit] = (await index.search(q({ q: 'mian street', city: 'Bangor' }))).hits;
      expect(hit?.id).toBe(D.mainSt.id);
      expect(hit?.highlights.line1?.map((h) => hit.line1.slice(h.start, h.start + h.length))).toEqual(['Main', 'St']);
    });

    it('offers "did you mean" from its own words when a query word occurs in no address', async () => {
      const dym = async (text: string) => (await index.search(q({ q: text }))).didYouMean;
      expect(await dym('mian street')).toBe('main street');
      expect(await dym('12 Mian St')).toBe('12 main st');
      expect(await dym('chesnut')).toBe('chestnut');
      expect(await dym('ocen avenue')).toBe('ocean avenue');
      // Every word occurs (as a word or the start of one, "avenu" as typed halfway): nothing to suggest.
      for (const text of [
        'main street',
        'Poland Spr',
        '12 Main Str',
        'ocean avenu',
        'chestnut',
        '',
        'zzzz main',
        '04102',
      ]) {
        expect(await dym(text), text).toBeNull();
      }
    });

    it('reads a region by its ISO 3166-2 name or code, whichever the address was registered with', async () => {
      const me = ALL.filter((d) => d.region === 'ME')
        .map((d) => d.id)
        .sort();
      expect((await ids({ region: 'Maine' })).sort()).toEqual(me);
      expect((await ids({ region: 'maine', country: 'US' })).sort()).toEqual(me);
      expect((await ids({ region: 'US-ME' })).sort()).toEqual(me);
      expect((await ids({ region: 'New Hampshire' })).sort()).toEqual([D.chestnut.id, D.mina.id].sort());
      // Québec is CA-QC, not Ottawa's Ontario; Maine is no region of Canada.
      expect(await ids({ region: 'Ontario', country: 'CA' })).toEqual([D.ottawa.id]);
      expect(await ids({ region: 'Maine', country: 'CA' })).toEqual([]);
      expect(await ids({ region: 'Zürich' })).toEqual([D.zurich.id]);
    });

    it('says which filter matches no address at all when nothing is found', async () => {
      const unmatched = async (query: Partial<SearchQuery>) => {
        const result = await index.search(q(query));
        return { total: result.total, unmatched: result.unmatchedFilters };
      };
      expect(await unmatched({ region: 'Mainee' })).toEqual({
        total: 0,
        unmatched: [{ field: 'region', value: 'Mainee' }],
      });
      expect(await unmatched({ q: 'main', country: 'US', city: 'Nowhere' })).toEqual({
        total: 0,
        unmatched: [{ field: 'city', value: 'Nowhere' }],
      });
      expect(await unmatched({ country: 'FR', postalCode: '999' })).toEqual({
        total: 0,
        unmatched: [
          { field: 'country', value: 'FR' },
          { field: 'postalCode', value: '999' },
        ],
      });
      // Each filter matches some address, only not together (nor with the words): nothing to name.
      expect(await unmatched({ city: 'Bath', status: 'active' })).toEqual({ total: 0, unmatched: [] });
      expect(await unmatched({ q: 'zzzz yyyy', city: 'Portland' })).toEqual({ total: 0, unmatched: [] });
      // Something found: every filter matched.
      expect((await unmatched({ region: 'ME', city: 'Bath' })).unmatched).toEqual([]);
    });

    it('keeps the filters when no address matches every word and fewer words are tried', async () => {
      expect(await ids({ q: 'main zzzz', city: 'bangor' })).toEqual([D.mainSt.id]);
      expect(await ids({ q: 'main zzzz', status: 'archived' })).toEqual([]);
    });

    it('counts facets over everything that matched the query and filters', async () => {
      const result = await index.search(q({ q: 'main' }));
      expect(result.total).toBe(3);
      expect(result.totalIsCapped).toBe(false);
      // Every match was counted, not a sample.
      expect(result.facetsSample).toBeNull();
      expect(result.facets.city).toEqual({ Portland: 2, Bangor: 1 });
      // Most frequent first, as the page lists them.
      expect(Object.keys(result.facets.city)).toEqual(['Portland', 'Bangor']);
      expect(result.facets.country).toEqual({ US: 3 });
      expect(result.facets.status).toEqual({ active: 3 });
      const all = await index.search(q({}));
      expect(all.total).toBe(ALL.length);
      expect(all.facets.status).toEqual({ active: ALL.length - 1, archived: 1 });
      expect(all.facets.region.ME).toBe(6);
    });

    it('ranks the exact house number above a longer one that only starts with it', async () => {
      const hits = await ids({ q: '12 Main Street', city: 'Portland' });
      expect(hits).toEqual([D.main12.id, D.main120.id]);
    });

    it('matches every word as a prefix, not only the last one', async () => {
      // "12" and "Str" are not the last word here (Meilisearch prefix-matches only the last one).
      expect(await ids({ q: 'Mai Str 12', city: 'Portland' })).toEqual([D.main12.id, D.main120.id]);
      expect(await ids({ q: 'Ocea Av 44' })).toEqual([D.ocean.id]);
    });

    it('tolerates one typo from four letters on, none in shorter words and none in numbers', async () => {
      expect(await ids({ q: 'ocen' })).toEqual([D.ocean.id]);
      expect(await ids({ q: 'ocen avenue' })).toEqual([D.ocean.id]);
      expect(await ids({ q: 'Bath' })).toEqual([D.archived.id]);
      expect(await ids({ q: 'Bth' })).toEqual([]);
      // 04102 is one digit away from 04101 and 04103: numbers match exactly or as a prefix.
      expect(await ids({ q: '04102' })).toEqual([]);
      expect((await ids({ q: '04101' })).sort()).toEqual([D.main12.id, D.main120.id].sort());
    });

    it('folds accents, ß, ø, ł, þ, ħ and æ whichever side writes them', async () => {
      const found: Array<[query: string, doc: keyof typeof CONTRACT_DOCS]> = [
        ['hauptstrasse', 'berlin'],
        ['Bahnhofstraße', 'zurich'],
        ['zurich', 'zurich'],
        ['sondergade', 'aarhus'],
        ['SØNDERGADE 3', 'aarhus'],
        ['lodzka', 'lodz'],
        ['Łódzka krakow', 'lodz'],
        ['thingholtsstraeti', 'reykjavik'],
        ['Þingholts', 'reykjavik'],
        ['hal qormi', 'qormi'],
        ['Ħal', 'qormi'],
      ];
      for (const [query, expected] of found) expect(await ids({ q: query }), query).toEqual([D[expected].id]);
    });

    it('treats "…str" and "…straße" as the same word, whichever the document says', async () => {
      expect(await ids({ q: 'Hauptstr 5' })).toEqual([D.berlin.id]);
      expect(await ids({ q: 'hauptstr. 5 berlin' })).toEqual([D.berlin.id]);
      expect(await ids({ q: 'Lindenstraße 8' })).toEqual([D.vienna.id]);
      expect(await ids({ q: 'lindenstrasse' })).toEqual([D.vienna.id]);
    });

    it('when nothing matches every word, accepts any one word missing, and only one', async () => {
      // The first, a middle and the last word (Meilisearch's matchingStrategy "last" drops only from the end).
      expect((await ids({ q: 'zzzz main' })).sort()).toEqual([D.main12.id, D.main120.id, D.mainSt.id].sort());
      expect(await ids({ q: 'ocean zzzz avenue' })).toEqual([D.ocean.id]);
      expect(await ids({ q: 'sussex drive zzzz' })).toEqual([D.ottawa.id]);
      const relaxed = await index.search(q({ q: 'zzzz main' }));
      expect(relaxed.total).toBe(3);
      expect(relaxed.facets.city).toEqual({ Portland: 2, Bangor: 1 });
      // Two words missing is too many.
      expect(await ids({ q: 'zzzz main yyyy' })).toEqual([]);
      // Words are counted after folding: "zzzz -" is one word, and leaving it out must not match everything.
      expect(await ids({ q: 'zzzz -' })).toEqual([]);
      expect(await ids({ q: 'zzzz - ocean' })).toEqual([D.ocean.id]);
    });

    it('reads the first ten words of a query and ignores the rest', async () => {
      const ten = '24 sussex drive suite 100 ottawa on k1m 1m4 acme';
      expect(await ids({ q: `${ten} zzzz yyyy` })).toEqual([D.ottawa.id]);
    });

    it('breaks ties by the last update, newest first, then by id', async () => {
      const [first, second] = [D.elmNew, D.elmNewToo].sort((a, b) => a.id.localeCompare(b.id));
      expect(await ids({ q: 'elm street' })).toEqual([first!.id, second!.id, D.elmOld.id]);
      expect(await ids({ q: 'elm street', sort: 'updated' })).toEqual([first!.id, second!.id, D.elmOld.id]);
    });

    it('sorts by last update, newest first, when asked', async () => {
      const hits = await ids({ q: 'main', sort: 'updated' });
      const byUpdate = [D.main12, D.main120, D.mainSt]
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .map((d) => d.id);
      expect(hits).toEqual(byUpdate);
    });

    it('pages through all matches without repeats', async () => {
      const seen: string[] = [];
      for (let page = 1; page <= Math.ceil(ALL.length / 3); page++) {
        const result = await index.search(q({ page, perPage: 3 }));
        expect(result).toMatchObject({ total: ALL.length, page, perPage: 3 });
        seen.push(...result.hits.map((h) => h.id));
      }
      expect(new Set(seen).size).toBe(ALL.length);
    });

    it('says which parts of which fields matched', async () => {
      const [hit] = (await index.search(q({ q: 'sussex acme' }))).hits;
      expect(hit?.id).toBe(D.ottawa.id);
      expect(hit?.highlights).toEqual({ line1: [{ start: 3, length: 6 }], owner: [{ start: 0, length: 4 }] });
    });

    it('reports itself healthy', async () => {
      expect(await index.health()).toMatchObject({ ok: true, backend: index.backend });
    });

    describe('with more facet values than are returned, and more matches than are counted', () => {
      let big: SearchIndex;
      let disposeBig: () => Promise<void>;
      beforeAll(async () => {
        ({ index: big, dispose: disposeBig } = await target.create({ maxTotalHits: 50 }));
        await big.upsert(TOWNS);
      });
      afterAll(async () => disposeBig?.());

      it('returns the most frequent facet values, not the first ones by name', async () => {
        const { facets } = await big.search(q({}));
        expect(Object.keys(facets.city)).toHaveLength(MAX_FACET_VALUES);
        expect(Object.entries(facets.city)[0]).toEqual(['Zeta', 3]);
        expect(facets.country).toEqual({ US: TOWNS.length });
      });

      it('says when the total is only a lower bound, and pages end at it', async () => {
        const all = await big.search(q({}));
        expect(all).toMatchObject({ total: 50, totalIsCapped: true });
        expect((await big.search(q({ page: 3 }))).hits).toHaveLength(10);
        expect((await big.search(q({ page: 4 }))).hits).toHaveLength(0);
        expect(await big.search(q({ q: 'zeta road' }))).toMatchObject({ total: 3, totalIsCapped: false });
        expect(await big.search(q({ q: 'mill lane', page: 2, perPage: 25 }))).toMatchObject({
          total: 50,
          totalIsCapped: true,
        });
      });
    });

    it('rebuilds into a fresh index beside the live one and swaps it in atomically', async () => {
      const rebuild = await index.prepareRebuild();
      expect((await rebuild.index.versions()).size).toBe(0);
      const only = { ...D.ocean, version: 7 };
      await rebuild.index.upsert([only]);
      // The live index keeps serving the old documents until the swap.
      expect((await index.search(q({}))).total).toBe(ALL.length);
      await rebuild.swap();
      expect(await index.versions()).toEqual(new Map([[only.id, 7]]));
      expect(await ids({ q: 'ocean' })).toEqual([only.id]);
      // The words it corrects to are the new index's own: Main is gone, Ocean is there.
      expect((await index.search(q({ q: 'mian street' }))).didYouMean).toBeNull();
      expect((await index.search(q({ q: 'ocen' }))).didYouMean).toBe('ocean');
    });
  });
}
