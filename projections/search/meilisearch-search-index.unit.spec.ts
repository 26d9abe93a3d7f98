/**
 * The Meilisearch adapter against a fake client at the client-interface boundary (MeiliClient):
 * what it would send a server, and what it does with the answers, checked without one. The
 * search behaviour itself is the contract suite's (meilisearch-search-index.int.spec.ts, on a
 * real server).
 */
import {
  type EnqueuedTask,
  MeilisearchApiError,
  MeilisearchTaskTimeOutError,
  type SearchParams,
  type Settings,
  type Task,
} from 'meilisearch';
import { describe, expect, it } from 'vitest';
import type { AddressDoc } from '../address-view/projection';
import { type FederatedSearchRequest, type MeiliDocument, meiliSettings } from './meilisearch-mapping';
import {
  createMeilisearchIndex,
  type MeiliClient,
  type MeiliIndexClient,
  MeiliTaskFailed,
  MeiliTaskStillRunning,
} from './meilisearch-search-index';
import { SEARCH_MAX_TOTAL_HITS, type SearchQuery } from './search-index';

type Outcome = 'succeeded' | 'timeout' | { failed: string };

function apiError(code: string): MeilisearchApiError {
  return new MeilisearchApiError(new Response(null, { status: 404 }), {
    code,
    message: `some text that may change (${code})`,
    type: 'invalid_request',
    link: '',
  });
}

/** A scripted server: records every call, answers tasks with the outcomes queued per task uid. */
function fakeServer(init: { version?: string; indexes?: string[]; settings?: Settings } = {}) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const indexes = new Set(init.indexes ?? []);
  const settings = new Map<string, Settings>();
  for (const uid of indexes) settings.set(uid, init.settings ?? {});
  const stored = new Map<string, MeiliDocument>();
  let nextUid = 1;
  const outcomes = new Map<number, Outcome[]>();
  const enqueued: Array<{ uid: number; type: string; index: string | null }> = [];
  /** Outcomes for the next enqueued task of this type (then `succeeded`). */
  const scripted = new Map<string, Outcome[]>();
  const searchAnswers: unknown[] = [];

  const enqueue = (type: string, index: string | null): PromiseLike<EnqueuedTask> => {
    const uid = nextUid++;
    enqueued.push({ uid, type, index });
    outcomes.set(uid, scripted.get(type)?.splice(0) ?? []);
    return Promise.resolve({ taskUid: uid, indexUid: index, status: 'enqueued', type, enqueuedAt: '' } as EnqueuedTask);
  };
  const record = (method: string, ...args: unknown[]) => calls.push({ method, args });

  const indexClient = (uid: string): MeiliIndexClient => ({
    async getSettings() {
      record('getSettings', uid);
      return structuredClone(settings.get(uid) ?? {});
    },
    updateSettings(s) {
      record('updateSettings', uid, s);
      settings.set(uid, { ...settings.get(uid), ...structuredClone(s) });
      return enqueue('settingsUpdate', uid);
    },
    addDocuments(docs, options) {
      record('addDocuments', uid, docs, options);
      for (const d of docs) stored.set(d.id, d);
      return enqueue('documentAdditionOrUpdate', uid);
    },
    async getDocuments(params) {
      record('getDocuments', uid, params);
      return { results: [...stored.values()].filter((d) => !params.filter || params.filter.includes(`"${d.id}"`)) };
    },
    async search(q: string, params: SearchParams) {
      record('search', uid, q, params);
      return (searchAnswers.shift() ?? { hits: [], totalHits: 0, facetDistribution: {} }) as never;
    },
  });

  const client: MeiliClient = {
    async getVersion() {
      record('getVersion');
      return { pkgVersion: init.version ?? '1.47.0' };
    },
    async health() {
      record('health');
      return { status: 'available' };
    },
    async getRawIndex(uid) {
      record('getRawIndex', uid);
      if (!indexes.has(uid)) throw apiError('index_not_found');
      return { uid };
    },
    async getRawIndexes() {
      record('getRawIndexes');
      return { results: [...indexes].map((uid) => ({ uid })), total: indexes.size };
    },
    createIndex(uid, options) {
      record('createIndex', uid, options);
      indexes.add(uid);
      return enqueue('indexCreation', uid);
    },
    deleteIndex(uid) {
      record('deleteIndex', uid);
      indexes.delete(uid);
      return enqueue('indexDeletion', uid);
    },
    swapIndexes(swaps) {
      record('swapIndexes', swaps);
      return enqueue('indexSwap', null);
    },
    async multiSearch(request: FederatedSearchRequest) {
      record('multiSearch', request);
      return (searchAnswers.shift() ?? { hits: [], totalHits: 0 }) as never;
    },
    tasks: {
      async waitForTask(uid, options) {
        record('waitForTask', uid, options);
        const task = enqueued.find((t) => t.uid === uid);
        if (!task) throw apiError('task_not_found');
        const outcome = outcomes.get(uid)?.shift() ?? 'succeeded';
        if (outcome === 'timeout') throw new MeilisearchTaskTimeOutError(uid, options.timeout);
        const failed = typeof outcome === 'object' ? outcome.failed : null;
        return {
          uid,
          indexUid: task.index,
          type: task.type,
          status: failed ? 'failed' : 'succeeded',
          error: failed ? { code: failed, message: 'x', type: 'invalid_request', link: '' } : null,
        } as Task;
      },
    },
    index: indexClient,
  };
  const named = (method: string) => calls.filter((c) => c.method === method);
  return { client, calls, named, enqueued, scripted, searchAnswers, settings, stored };
}

let seq = 0;
function doc(fields: Partial<AddressDoc> = {}): AddressDoc {
  seq++;
  const id = `c0ffee00-0000-4000-8000-${String(seq).padStart(12, '0')}`;
  return {
    id,
    streamId: `address-${id}`,
    version: 1,
    status: 'active',
    line1: `${seq} Main Street`,
    line2: null,
    city: 'Portland',
    region: 'ME',
    postalCode: '04101',
    country: 'US',
    owner: null,
    archivedReason: null,
    registeredAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    lastEventType: 'AddressRegistered',
    lastPosition: String(seq),
    lastActor: { id: 'u', name: 'U', role: 'operator' },
    ...fields,
  };
}

const q = (query: Partial<SearchQuery>): SearchQuery => ({ sort: 'relevance', page: 1, perPage: 20, ...query });

describe('Meilisearch adapter: start', () => {
  it('refuses a server older than the settings need, before touching anything', async () => {
    const server = fakeServer({ version: '1.14.0' });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    await expect(index.setup()).rejects.toThrow(/Meilisearch 1\.14\.0 is too old: .* needs 1\.34\.3 or newer/);
    expect(server.calls.map((c) => c.method)).toEqual(['getVersion']);
  });

  it('creates a missing index and sends the settings it lacks', async () => {
    const server = fakeServer();
    await createMeilisearchIndex({ host: 'http://fake', indexUid: 'addr', client: server.client }).setup();
    expect(server.named('createIndex')[0]?.args).toEqual(['addr', { primaryKey: 'id' }]);
    expect(server.named('updateSettings')[0]?.args).toEqual(['addr', meiliSettings(SEARCH_MAX_TOTAL_HITS)]);
    // Both tasks were awaited until done.
    expect(server.named('waitForTask').map((c) => c.args[0])).toEqual([1, 2]);
  });

  it('sends no settings when the server already has them (an unchanged start costs no reindex)', async () => {
    const server = fakeServer({ indexes: ['addr'], settings: meiliSettings(SEARCH_MAX_TOTAL_HITS) });
    await createMeilisearchIndex({ host: 'http://fake', indexUid: 'addr', client: server.client }).setup();
    expect(server.named('createIndex')).toEqual([]);
    expect(server.named('updateSettings')).toEqual([]);
  });

  it('sends only the setting that differs', async () => {
    const current = meiliSettings(SEARCH_MAX_TOTAL_HITS);
    current.faceting = { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } };
    const server = fakeServer({ indexes: ['addr'], settings: current });
    await createMeilisearchIndex({ host: 'http://fake', indexUid: 'addr', client: server.client }).setup();
    expect(server.named('updateSettings')[0]?.args).toEqual([
      'addr',
      { faceting: { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'count' } } },
    ]);
  });

  it('accepts an index another process created meanwhile (by error code)', async () => {
    const server = fakeServer();
    server.scripted.set('indexCreation', [{ failed: 'index_already_exists' }]);
    await createMeilisearchIndex({ host: 'http://fake', client: server.client }).setup();
    server.scripted.set('indexCreation', [{ failed: 'invalid_index_uid' }]);
    await expect(
      createMeilisearchIndex({ host: 'http://fake', indexUid: 'other', client: server.client }).setup(),
    ).rejects.toBeInstanceOf(MeiliTaskFailed);
  });

  it('says which permission is missing when the key may not read tasks', async () => {
    const server = fakeServer();
    server.client.tasks.waitForTask = async () => {
      throw apiError('invalid_api_key');
    };
    await expect(createMeilisearchIndex({ host: 'http://fake', client: server.client }).setup()).rejects.toThrow(
      /needs tasks\.get/,
    );
  });

  it('keeps waiting on the same settings task after a wait times out, and never sends it twice', async () => {
    const server = fakeServer();
    server.scripted.set('settingsUpdate', ['timeout', 'timeout']);
    await createMeilisearchIndex({ host: 'http://fake', client: server.client, taskTimeoutMs: 5 }).setup();
    expect(server.named('updateSettings')).toHaveLength(1);
    expect(server.named('waitForTask').map((c) => c.args[0])).toEqual([1, 2, 2, 2]);
  });
});

describe('Meilisearch adapter: writes', () => {
  it('sends the folded document tagged with its checkpoint', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    const d = doc({ line1: '7 Hauptstraße' });
    await index.upsert([d], { checkpoint: '12-34' });
    const [, sent, options] = server.named('addDocuments')[0]!.args as [string, MeiliDocument[], object];
    expect(options).toEqual({ primaryKey: 'id', customMetadata: 'checkpoint:12-34' });
    expect(sent[0]).toMatchObject({ id: d.id, searchPrimary: '7 hauptstrasse', doc: d });
  });

  it('after a timed-out wait, the retry waits on the same task instead of enqueueing the batch again', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client, taskTimeoutMs: 5 });
    const batch = [doc(), doc()];
    server.scripted.set('documentAdditionOrUpdate', ['timeout']);
    await expect(index.upsert(batch)).rejects.toBeInstanceOf(MeiliTaskStillRunning);
    // The fake applied the documents at once; a server still busy with the task shows the old ones.
    server.stored.clear();
    await index.upsert(batch);
    expect(server.named('addDocuments')).toHaveLength(1);
    expect(server.named('waitForTask').map((c) => c.args[0])).toEqual([1, 1]);
    // A different batch is a new task.
    await index.upsert([doc()]);
    expect(server.named('addDocuments')).toHaveLength(2);
  });

  it('reports a failed document task (and enqueues anew on the next try)', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    const batch = [doc()];
    server.scripted.set('documentAdditionOrUpdate', [{ failed: 'internal' }]);
    await expect(index.upsert(batch)).rejects.toThrow(MeiliTaskFailed);
    server.stored.clear();
    await index.upsert(batch);
    expect(server.named('addDocuments')).toHaveLength(2);
  });

  it('leaves out a document whose id Meilisearch would refuse, and writes the rest of the batch', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    const good = doc();
    await index.upsert([doc({ id: 'not a valid id' }), good]);
    const [, sent] = server.named('addDocuments')[0]!.args as [string, MeiliDocument[]];
    expect(sent.map((d) => d.id)).toEqual([good.id]);
  });

  it('sends nothing for a document no newer than the stored one', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    const d = doc({ version: 2 });
    await index.upsert([d]);
    await index.upsert([{ ...d, version: 1 }, d]);
    expect(server.named('addDocuments')).toHaveLength(1);
  });
});

describe('Meilisearch adapter: searches', () => {
  it('sends the folded query once when something matches every word, and reports the result', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client, maxTotalHits: 50 });
    const hit = doc({ city: 'Zürich' });
    server.searchAnswers.push({
      hits: [{ doc: hit }],
      totalHits: 51,
      facetDistribution: { city: { Bangor: 1, Zürich: 3, Aaton: 3 }, status: { active: 51 } },
    });
    const result = await index.search(q({ q: 'Zürich  Main!', city: 'zurich' }));
    expect(server.named('search')[0]?.args.slice(1, 3)).toEqual([
      'zurich main',
      expect.objectContaining({ filter: ['cityKey = "zurich"'], matchingStrategy: 'all' }),
    ]);
    expect(server.named('multiSearch')).toEqual([]);
    expect(result).toMatchObject({ total: 50, totalIsCapped: true, page: 1, perPage: 20 });
    expect(result.hits.map((h) => h.id)).toEqual([hit.id]);
    expect(result.hits[0]).not.toHaveProperty('streamId');
    expect(Object.entries(result.facets.city)).toEqual([
      ['Aaton', 3],
      ['Zürich', 3],
      ['Bangor', 1],
    ]);
  });

  it('when nothing matches every word, asks the federated one-word-missing search and reports its union', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    const hit = doc();
    server.searchAnswers.push({ hits: [], totalHits: 0, facetDistribution: {} });
    server.searchAnswers.push({
      hits: [{ doc: hit }],
      totalHits: 3,
      facetsByIndex: { addresses: { distribution: { city: { Portland: 2, Bangor: 1 } }, stats: {} } },
    });
    const result = await index.search(q({ q: 'zzzz main' }));
    const [request] = server.named('multiSearch')[0]!.args as [FederatedSearchRequest];
    expect(request.queries.map((x) => x.q)).toEqual(['main', 'zzzz']);
    expect(result).toMatchObject({ total: 3, totalIsCapped: false });
    expect(result.facets.city).toEqual({ Portland: 2, Bangor: 1 });
  });

  it('offers "did you mean" from the words of the hits when a query word is in none of them', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    // What Meilisearch answers for "mian street": its typo tolerance counts the swap as one typo.
    server.searchAnswers.push({
      hits: [
        { doc: doc({ line1: '1 Main Street' }) },
        { doc: doc({ line1: '2 Main St' }) },
        { doc: doc({ line1: '3 Mina Street' }) },
      ],
      totalHits: 3,
      facetDistribution: {},
    });
    // Then the corrected words first, the typed ones weighing less, in one federated search.
    const main = doc({ line1: '1 Main Street' });
    server.searchAnswers.push({
      hits: [{ doc: main }],
      totalHits: 3,
      facetsByIndex: { addresses: { distribution: { city: { Portland: 3 } }, stats: {} } },
    });
    const result = await index.search(q({ q: 'mian street' }));
    expect(result).toMatchObject({ didYouMean: 'main street', total: 3, facets: { city: { Portland: 3 } } });
    expect(result.hits.map((h) => h.id)).toEqual([main.id]);
    const [request] = server.named('multiSearch')[0]!.args as [FederatedSearchRequest];
    expect(request.queries.map((x) => [x.q, x.federationOptions?.weight])).toEqual([
      ['main street', undefined],
      ['mian street', 0.5],
    ]);
    server.searchAnswers.push({
      hits: [{ doc: doc({ line1: '1 Main Street' }) }],
      totalHits: 1,
      facetDistribution: {},
    });
    expect((await index.search(q({ q: 'main street' }))).didYouMean).toBeNull();
    expect(server.named('multiSearch')).toHaveLength(1);
  });

  it('when nothing is found, asks for each filter alone and names those no document passes', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client });
    server.searchAnswers.push({ hits: [], totalHits: 0, facetDistribution: {} });
    // In order: country alone finds a document, region alone finds one, city alone finds none.
    server.searchAnswers.push({ hits: [{ id: 'a' }] }, { hits: [{ id: 'b' }] }, { hits: [] });
    const result = await index.search(q({ q: 'main', country: 'US', region: 'Maine', city: 'Nowhere' }));
    expect(result).toMatchObject({ total: 0, unmatchedFilters: [{ field: 'city', value: 'Nowhere' }] });
    expect(
      server
        .named('search')
        .slice(1)
        .map((c) => [c.args[1], (c.args[2] as SearchParams).filter]),
    ).toEqual([
      ['', ['country = "US"']],
      ['', ['regionKey IN ["maine", "me"]']],
      ['', ['cityKey = "nowhere"']],
    ]);
    // Something found: no question asked.
    server.searchAnswers.push({ hits: [{ doc: doc() }], totalHits: 1, facetDistribution: {} });
    const calls = server.named('search').length;
    expect((await index.search(q({ city: 'Portland' }))).unmatchedFilters).toEqual([]);
    expect(server.named('search')).toHaveLength(calls + 1);
  });

  it('has no fallback for a one-word query', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const result = await createMeilisearchIndex({ host: 'http://fake', client: server.client }).search(
      q({ q: 'zzzz -' }),
    );
    expect(server.named('multiSearch')).toEqual([]);
    expect(result.total).toBe(0);
  });

  it('checks health with a search, which the search-only key may do', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    expect(await createMeilisearchIndex({ host: 'http://fake', client: server.client }).health()).toEqual({
      ok: true,
      backend: 'meilisearch',
    });
    expect(server.calls.map((c) => c.method)).toEqual(['health', 'search']);
  });
});

describe('Meilisearch adapter: rebuild', () => {
  it('deletes copies a dead rebuild left, swaps after waiting for the swap to be final, then drops the old copy', async () => {
    const server = fakeServer({ indexes: ['addresses', 'addresses_rebuild_1', 'addresses_other'] });
    const index = createMeilisearchIndex({ host: 'http://fake', client: server.client, taskTimeoutMs: 5 });
    const rebuild = await index.prepareRebuild();
    expect(server.named('deleteIndex').map((c) => c.args[0])).toEqual(['addresses_rebuild_1']);
    const [next] = server.named('createIndex').map((c) => c.args[0] as string);
    expect(next).toMatch(/^addresses_rebuild_\d+$/);
    server.scripted.set('indexSwap', ['timeout', 'timeout']);
    await rebuild.swap();
    expect(server.named('swapIndexes')).toHaveLength(1);
    const swapUid = server.enqueued.find((t) => t.type === 'indexSwap')!.uid;
    expect(server.named('waitForTask').filter((c) => c.args[0] === swapUid)).toHaveLength(3);
    expect(server.named('deleteIndex').map((c) => c.args[0])).toEqual(['addresses_rebuild_1', next]);
  });

  it('reports a swap that failed, and leaves no copy behind once discarded', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    const rebuild = await createMeilisearchIndex({ host: 'http://fake', client: server.client }).prepareRebuild();
    server.scripted.set('indexSwap', [{ failed: 'index_not_found' }]);
    await expect(rebuild.swap()).rejects.toBeInstanceOf(MeiliTaskFailed);
    await rebuild.discard();
    expect([...(await server.client.getRawIndexes({ limit: 10 })).results.map((r) => r.uid)]).toEqual(['addresses']);
  });

  it('deletes the fresh copy when setting it up fails', async () => {
    const server = fakeServer({ indexes: ['addresses'] });
    server.scripted.set('settingsUpdate', [{ failed: 'invalid_settings_ranking_rules' }]);
    await expect(
      createMeilisearchIndex({ host: 'http://fake', client: server.client }).prepareRebuild(),
    ).rejects.toBeInstanceOf(MeiliTaskFailed);
    expect((await server.client.getRawIndexes({ limit: 10 })).results.map((r) => r.uid)).toEqual(['addresses']);
  });
});
