import type { Settings } from 'meilisearch';
import { describe, expect, it } from 'vitest';
import type { AddressDoc } from '../address-view/projection';
import {
  correctedRequest,
  didYouMeanFromHits,
  fallbackRequest,
  hitsWithinCap,
  isValidDocumentId,
  meiliFilter,
  meiliSettings,
  parseVersion,
  searchRequest,
  settingsToUpdate,
  toMeiliDocument,
  versionProblem,
} from './meilisearch-mapping';
import { queryWords } from './normalize';
import { searchColumns } from './postgres-search-index';
import type { SearchQuery } from './search-index';

const doc: AddressDoc = {
  id: 'c0ffee00-0000-4000-8000-000000000001',
  streamId: 'address-c0ffee00-0000-4000-8000-000000000001',
  version: 3,
  status: 'active',
  line1: '120 Hauptstraße',
  line2: 'Søndergade St',
  city: 'Zürich',
  region: 'Québec',
  postalCode: 'K1A 0B1',
  country: 'CA',
  owner: 'Łukasz',
  archivedReason: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
  lastEventType: 'AddressRegistered',
  lastPosition: '9',
  lastActor: { id: 'u', name: 'U', role: 'operator' },
};

const query = (q: Partial<SearchQuery>): SearchQuery => ({ sort: 'relevance', page: 1, perPage: 20, ...q });

describe('Meilisearch index settings', () => {
  const settings = meiliSettings(100_000);

  const searchable = [
    'searchPrimary',
    'searchSecondary',
    'searchAlternates',
    'prefixesPrimary',
    'prefixesSecondary',
    'prefixesAlternates',
  ];

  it('search the folded words, then their prefixes, each in the order of the Postgres weights', () => {
    expect(settings.searchableAttributes).toEqual(searchable);
    // Meilisearch's own prefix search (last word only, ranked as exact) is off.
    expect(settings.prefixSearch).toBe('disabled');
  });

  it('allow one typo from four letters, none on numbers and none on prefixes', () => {
    expect(settings.typoTolerance).toEqual({
      enabled: true,
      minWordSizeForTypos: { oneTypo: 4, twoTypos: 9 },
      disableOnNumbers: true,
      disableOnAttributes: ['prefixesPrimary', 'prefixesSecondary', 'prefixesAlternates'],
      disableOnWords: [],
    });
  });

  it('rank as Postgres scores (typo < prefix < exact, by attribute), then by last update and id', () => {
    expect(settings.rankingRules).toEqual(['sort', 'words', 'typo', 'attribute', 'updatedAtTs:desc', 'id:asc']);
    expect(settings.sortableAttributes).toEqual(['updatedAtTs', 'id']);
  });

  it('return the most frequent facet values, pin the tokenizer locale and use no synonyms', () => {
    expect(settings.faceting).toEqual({ maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'count' } });
    expect(settings.localizedAttributes).toEqual([{ attributePatterns: searchable, locales: ['eng'] }]);
    expect(settings.synonyms).toEqual({});
    expect(settings.stopWords).toEqual([]);
  });

  it('count one match past the cap, to tell "exactly the cap" from "more"', () => {
    expect(settings.pagination).toEqual({ maxTotalHits: 100_001 });
    expect(meiliSettings(50).pagination).toEqual({ maxTotalHits: 51 });
  });
});

describe('the Meilisearch document', () => {
  const stored = toMeiliDocument(doc);

  it('holds the same folded words as the Postgres index', () => {
    const columns = searchColumns(doc);
    expect(stored.searchPrimary).toBe(columns.primary);
    expect(stored.searchSecondary).toBe(columns.secondary);
    expect(stored.searchAlternates).toBe(columns.alternates);
    expect(stored.searchPrimary).toBe('120 hauptstrasse sondergade st');
    expect(stored.searchSecondary).toContain('lukasz');
    expect(stored.searchAlternates.split(' ')).toEqual(expect.arrayContaining(['hauptstr', 'street', 'saint']));
  });

  it('stores the prefixes of every word by tier, none that is a whole word, each once', () => {
    const primary = stored.prefixesPrimary.split(' ');
    expect(primary).toEqual(expect.arrayContaining(['1', '12', 'hauptst', 's', 'so']));
    expect(primary).not.toContain('120');
    expect(primary).not.toContain('st');
    expect(stored.prefixesSecondary.split(' ')).toEqual(expect.arrayContaining(['zu', 'k1a0b', 'luk']));
    // "stree", "sai" come from the alternates ("street", "saint"); "s" came first with the address lines.
    expect(stored.prefixesAlternates.split(' ')).toEqual(expect.arrayContaining(['stree', 'sai']));
    expect(stored.prefixesAlternates.split(' ')).not.toContain('s');
  });

  it('keeps the filter keys folded and the document whole', () => {
    expect(stored).toMatchObject({
      id: doc.id,
      version: 3,
      cityKey: 'zurich',
      regionKey: 'quebec',
      city: 'Zürich',
      postalPrefixes: ['K', 'K1', 'K1A', 'K1A0', 'K1A0B', 'K1A0B1'],
      updatedAtTs: Date.parse(doc.updatedAt),
      doc,
    });
  });

  it('accepts the ids Meilisearch accepts, and nothing else', () => {
    expect(isValidDocumentId(doc.id)).toBe(true);
    expect(isValidDocumentId('menh-000001')).toBe(true);
    expect(isValidDocumentId('a_B-9')).toBe(true);
    expect(isValidDocumentId('')).toBe(false);
    expect(isValidDocumentId('has space')).toBe(false);
    expect(isValidDocumentId('dot.ted')).toBe(false);
    expect(isValidDocumentId('zürich')).toBe(false);
    expect(isValidDocumentId('x'.repeat(511))).toBe(true);
    expect(isValidDocumentId('x'.repeat(512))).toBe(false);
  });
});

describe('the search Meilisearch is sent', () => {
  it('sends the folded words, all required, with the filters and the tokenizer locale', () => {
    const q = query({ q: "12 Hauptstraße, O'Brien-Rd. ZÜRICH", city: 'ZÜRICH', country: 'ch', page: 2, perPage: 5 });
    expect(searchRequest(q, queryWords(q.q))).toEqual({
      q: '12 hauptstrasse o brien rd zurich',
      params: {
        filter: ['country = "CH"', 'cityKey = "zurich"'],
        matchingStrategy: 'all',
        attributesToRetrieve: ['doc'],
        locales: ['eng'],
        facets: ['country', 'region', 'city', 'status'],
        page: 2,
        hitsPerPage: 5,
      },
    });
  });

  it('sorts by last update, then id, only when asked', () => {
    const q = query({ q: 'main', sort: 'updated' });
    expect(searchRequest(q, ['main']).params.sort).toEqual(['updatedAtTs:desc', 'id:asc']);
    expect(searchRequest(query({ q: 'main' }), ['main']).params).not.toHaveProperty('sort');
  });

  it('turns the query filters into equality filters on folded keys and postal-code prefixes', () => {
    expect(
      meiliFilter(query({ city: 'ZÜRICH', region: 'Québec', country: 'ca', postalCode: 'k1a 0', status: 'active' })),
    ).toEqual([
      'country = "CA"',
      // Québec is ISO 3166-2 CA-QC: documents that say "QC" match too (filter-forms.ts).
      'regionKey IN ["quebec", "qc"]',
      'cityKey = "zurich"',
      'status = "active"',
      'postalPrefixes = "K1A0"',
    ]);
    expect(meiliFilter(query({ city: 'a "quoted" \\ city' }))).toEqual(['cityKey = "a \\"quoted\\" \\\\ city"']);
    expect(meiliFilter(query({ region: 'Maine', country: 'US' }))).toEqual([
      'country = "US"',
      'regionKey IN ["maine", "me"]',
    ]);
    expect(meiliFilter(query({ region: 'Lower Bogsworth' }))).toEqual(['regionKey = "lower bogsworth"']);
  });

  it('falls back to every way of leaving one word out, in one federated search that counts the union', () => {
    const q = query({ q: 'zzzz main st', status: 'active', page: 3, perPage: 10 });
    const request = fallbackRequest(q, queryWords(q.q), 'addresses');
    expect(request?.federation).toEqual({
      page: 3,
      hitsPerPage: 10,
      facetsByIndex: { addresses: ['country', 'region', 'city', 'status'] },
    });
    expect(request?.queries.map((x) => x.q)).toEqual(['main st', 'zzzz st', 'zzzz main']);
    for (const each of request?.queries ?? []) {
      expect(each).toMatchObject({ indexUid: 'addresses', filter: ['status = "active"'], matchingStrategy: 'all' });
      // Paging and facets belong to the federation; Meilisearch refuses them per query.
      expect(each).not.toHaveProperty('page');
      expect(each).not.toHaveProperty('facets');
    }
  });

  it('has no fallback for a single folded word (leaving it out would match everything)', () => {
    expect(fallbackRequest(query({ q: 'zzzz -' }), queryWords('zzzz -'), 'addresses')).toBeNull();
    expect(fallbackRequest(query({}), [], 'addresses')).toBeNull();
  });

  it('keeps only the hits within the cap', () => {
    const hits = Array.from({ length: 20 }, (_, i) => i);
    expect(hitsWithinCap(hits, query({ page: 3, perPage: 20 }), 50)).toHaveLength(10);
    expect(hitsWithinCap(hits, query({ page: 4, perPage: 20 }), 50)).toEqual([]);
    expect(hitsWithinCap(hits, query({ page: 1, perPage: 20 }), 50)).toEqual(hits);
  });
});

describe('which settings are sent at start', () => {
  const wanted = meiliSettings(100_000);
  /** What GET /indexes/{uid}/settings answers once `wanted` was applied: sets sorted, defaults filled in. */
  const applied = (): Settings => ({
    ...structuredClone(wanted),
    filterableAttributes: [...(wanted.filterableAttributes as string[])].sort(),
    sortableAttributes: ['id', 'updatedAtTs'],
    displayedAttributes: ['*'],
    distinctAttribute: null,
    proximityPrecision: 'byWord',
    separatorTokens: [],
    nonSeparatorTokens: [],
    dictionary: [],
    searchCutoffMs: null,
    embedders: {},
    typoTolerance: { ...wanted.typoTolerance, disableOnWords: [] },
  });

  it('sends nothing when the server already has them', () => {
    expect(settingsToUpdate(wanted, applied())).toEqual({});
  });

  it('sends only the settings that differ', () => {
    const current = applied();
    current.typoTolerance = { ...current.typoTolerance, disableOnNumbers: false };
    current.rankingRules = ['sort', 'words', 'typo', 'proximity', 'attribute', 'updatedAtTs:desc', 'id:asc'];
    current.localizedAttributes = null;
    expect(Object.keys(settingsToUpdate(wanted, current)).sort()).toEqual([
      'localizedAttributes',
      'rankingRules',
      'typoTolerance',
    ]);
  });

  it('sends the synonyms when the server has any, since none are wanted', () => {
    expect(settingsToUpdate(wanted, { ...applied(), synonyms: { st: ['street'] } })).toEqual({ synonyms: {} });
  });

  it('sends everything to a fresh index with the server defaults', () => {
    const defaults: Settings = {
      searchableAttributes: ['*'],
      filterableAttributes: [],
      sortableAttributes: [],
      rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'],
      typoTolerance: {
        enabled: true,
        minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
        disableOnNumbers: false,
        disableOnAttributes: [],
        disableOnWords: [],
      },
      synonyms: {},
      stopWords: [],
      localizedAttributes: null,
      faceting: { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } },
      pagination: { maxTotalHits: 1000 },
      facetSearch: true,
      prefixSearch: 'indexingTime',
    };
    expect(Object.keys(settingsToUpdate(wanted, defaults)).sort()).toEqual(
      [
        'facetSearch',
        'faceting',
        'filterableAttributes',
        'localizedAttributes',
        'pagination',
        'prefixSearch',
        'rankingRules',
        'searchableAttributes',
        'sortableAttributes',
        'typoTolerance',
      ].sort(),
    );
  });
});

describe('the server version check', () => {
  it('reads Meilisearch version strings', () => {
    expect(parseVersion('1.34.3')).toEqual([1, 34, 3]);
    expect(parseVersion('v1.47.0')).toEqual([1, 47, 0]);
    expect(parseVersion('1.35.0-rc.1')).toEqual([1, 35, 0]);
    expect(parseVersion('latest')).toBeNull();
  });

  it('accepts the minimum and newer, compares numerically, and says why an older one is refused', () => {
    expect(versionProblem('1.34.3')).toBeNull();
    expect(versionProblem('1.47.0')).toBeNull();
    expect(versionProblem('2.0.0')).toBeNull();
    expect(versionProblem('1.100.0')).toBeNull();
    expect(versionProblem('1.34.2')).toMatch(/Meilisearch 1\.34\.2 is too old: .* needs 1\.34\.3 or newer/);
    expect(versionProblem('1.15.0')).toMatch(/disableOnNumbers/);
    expect(versionProblem('0.99.9')).toMatch(/too old/);
    expect(versionProblem('nightly')).toMatch(/not a version number/);
  });
});

describe('did you mean, from the hits Meilisearch returned', () => {
  const hit = (line1: string) => ({ ...doc, id: line1, line1 });
  it('replaces a word none of the hits holds by the nearest of their words, the commoner first', () => {
    const hits = [hit('1 Main Street'), hit('2 Main St'), hit('3 Mina Street')];
    expect(didYouMeanFromHits(['mian', 'street'], hits)).toBe('main street');
    expect(didYouMeanFromHits(['12', 'mian', 'sreet'], hits)).toBe('12 main street');
  });

  it('is null when every word is in the hits (as a word or the start of one), or there are no hits', () => {
    expect(didYouMeanFromHits(['main', 'stre'], [hit('1 Main Street')])).toBeNull();
    expect(didYouMeanFromHits(['mian'], [])).toBeNull();
    expect(didYouMeanFromHits(['zzzz'], [hit('1 Main Street')])).toBeNull();
  });
});

describe('the search for corrected words', () => {
  it('asks for the corrected words first and the typed ones at half weight, keeping filters and page', () => {
    const request = correctedRequest(
      query({ q: 'mian st', city: 'Bangor', page: 2 }),
      ['mian', 'st'],
      ['main', 'st'],
      'addresses',
    );
    expect(request?.federation).toMatchObject({ page: 2, hitsPerPage: 20 });
    expect(request?.queries.map((x) => [x.q, x.filter, x.federationOptions])).toEqual([
      ['main st', ['cityKey = "bangor"'], undefined],
      ['mian st', ['cityKey = "bangor"'], { weight: 0.5 }],
    ]);
  });

  it('is not asked when results are sorted by the last update', () => {
    expect(correctedRequest(query({ q: 'mian', sort: 'updated' }), ['mian'], ['main'], 'addresses')).toBeNull();
  });
});
