/**
 * The search index contract (tests only): one suite, run against every adapter, so the Postgres
 * default and Meilisearch in production answer the same questions the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressDoc } from '../address-view/projection';
import type { SearchIndex, SearchQuery } from './search-index';

export interface ContractTarget {
  /** A fresh, empty index (set up), and how to get rid of it. */
  create(): Promise<{ index: SearchIndex; dispose(): Promise<void> }>;
}

let seq = 0;
function doc(fields: Partial<AddressDoc> & Pick<AddressDoc, 'line1' | 'city' | 'postalCode' | 'country'>): AddressDoc {
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

export const CONTRACT_DOCS = {
  main12: doc({ line1: '12 Main Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' }),
  main120: doc({ line1: '120 Main Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' }),
  mainSt: doc({ line1: '12 Main St', city: 'Bangor', region: 'ME', postalCode: '04401', country: 'US' }),
  chestnut: doc({ line1: '7 Chestnut Street', city: 'Nashua', region: 'NH', postalCode: '03060', country: 'US' }),
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
};
const ALL = Object.values(CONTRACT_DOCS);

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

    it('folds accents and ß on both sides', async () => {
      expect(await ids({ q: 'hauptstrasse' })).toEqual([D.berlin.id]);
      expect(await ids({ q: 'Bahnhofstraße' })).toEqual([D.zurich.id]);
      expect(await ids({ q: 'zurich' })).toEqual([D.zurich.id]);
    });

    it('finds by postal code, and by postal-code prefix as a filter', async () => {
      expect(await ids({ q: '04210' })).toEqual([D.poland.id]);
      expect((await ids({ postalCode: '041' })).sort()).toEqual([D.main12.id, D.main120.id, D.ocean.id].sort());
      expect(await ids({ postalCode: 'k1m 1' })).toEqual([D.ottawa.id]);
    });

    it('filters by country, region and city ignoring case and accents, and by status', async () => {
      expect((await ids({ country: 'de' })).sort()).toEqual([D.berlin.id]);
      expect((await ids({ region: 'nh' })).sort()).toEqual([D.chestnut.id]);
      expect(await ids({ city: 'ZURICH' })).toEqual([D.zurich.id]);
      expect(await ids({ status: 'archived' })).toEqual([D.archived.id]);
      expect(await ids({ q: 'main', city: 'portland' })).toHaveLength(2);
    });

    it('keeps the filters when no address matches every word and fewer words are tried', async () => {
      expect(await ids({ q: 'main zzzz', city: 'bangor' })).toEqual([D.mainSt.id]);
      expect(await ids({ q: 'main zzzz', status: 'archived' })).toEqual([]);
    });

    it('counts facets over everything that matched the query and filters', async () => {
      const result = await index.search(q({ q: 'main' }));
      expect(result.total).toBe(3);
      expect(result.facets.city).toEqual({ Portland: 2, Bangor: 1 });
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

    it('sorts by last update, newest first, when asked', async () => {
      const hits = await ids({ q: 'main', sort: 'updated' });
      const byUpdate = [D.main12, D.main120, D.mainSt]
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .map((d) => d.id);
      expect(hits).toEqual(byUpdate);
    });

    it('pages through all matches without repeats', async () => {
      const seen: string[] = [];
      for (let page = 1; page <= 4; page++) {
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
    });
  });
}
