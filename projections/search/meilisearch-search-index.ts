import {
  type EnqueuedTaskPromise,
  type Index,
  type IndexSwap,
  Meilisearch,
  type Settings,
  type Task,
} from 'meilisearch';
import { logger } from '@/lib/logger';
import type { AddressDoc } from '../address-view/projection';
import { ABBREVIATIONS, foldText, postalCodeKey } from './normalize';
import {
  emptyFacets,
  FACET_FIELDS,
  type SearchIndex,
  type SearchIndexRebuild,
  type SearchQuery,
  type SearchResult,
  toHit,
} from './search-index';

export const DEFAULT_MEILI_INDEX = 'addresses';

export interface MeilisearchIndexOptions {
  host: string;
  apiKey?: string;
  indexUid?: string;
  /** How long to wait for a document task before the batch counts as failed (and is retried). */
  taskTimeoutMs?: number;
  /** Per-request timeout, so an unreachable server fails a batch instead of hanging it. */
  requestTimeoutMs?: number;
}

/** What Meilisearch stores: the read-model document plus keys to filter and sort on. */
export type MeiliDocument = AddressDoc & {
  cityKey: string;
  regionKey: string | null;
  /** Every prefix of the postal code ("0", "04", … "04210"): prefix filtering with plain equality. */
  postalPrefixes: string[];
  updatedAtTs: number;
};

export function toMeiliDocument(doc: AddressDoc): MeiliDocument {
  const key = postalCodeKey(doc.postalCode);
  return {
    ...doc,
    cityKey: foldKey(doc.city),
    regionKey: doc.region === null ? null : foldKey(doc.region),
    postalPrefixes: Array.from({ length: key.length }, (_, i) => key.slice(0, i + 1)),
    updatedAtTs: Date.parse(doc.updatedAt),
  };
}

export function fromMeiliDocument(doc: MeiliDocument): AddressDoc {
  const { cityKey: _c, regionKey: _r, postalPrefixes: _p, updatedAtTs: _u, ...rest } = doc;
  return rest;
}

function foldKey(text: string): string {
  return foldText(text).trim();
}

/** Meilisearch's synonyms are directed; listing both directions gives the same pairs as Postgres. */
export function streetTypeSynonyms(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (from: string, to: string) => {
    out[from] ??= [];
    if (!out[from].includes(to)) out[from].push(to);
  };
  for (const [abbreviation, full] of ABBREVIATIONS) {
    add(abbreviation, full);
    add(full, abbreviation);
  }
  return out;
}

export const MEILI_SETTINGS: Settings = {
  searchableAttributes: ['line1', 'line2', 'city', 'postalCode', 'region', 'owner', 'country'],
  filterableAttributes: ['id', 'country', 'region', 'city', 'status', 'cityKey', 'regionKey', 'postalPrefixes'],
  sortableAttributes: ['updatedAtTs'],
  // `sort` first: without a sort parameter it does nothing; with one it orders all matches, as the
  // Postgres adapter does for sort=updated.
  rankingRules: ['sort', 'words', 'typo', 'proximity', 'attribute', 'exactness'],
  synonyms: streetTypeSynonyms(),
  pagination: { maxTotalHits: 100_000 },
  faceting: { maxValuesPerFacet: 100 },
};

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The Meilisearch filter for a query's filters (an AND of equalities). */
export function meiliFilter(query: SearchQuery): string[] {
  const filter: string[] = [];
  if (query.country) filter.push(`country = ${quote(query.country.toUpperCase())}`);
  if (query.region) filter.push(`regionKey = ${quote(foldKey(query.region))}`);
  if (query.city) filter.push(`cityKey = ${quote(foldKey(query.city))}`);
  if (query.status) filter.push(`status = ${quote(query.status)}`);
  if (query.postalCode) filter.push(`postalPrefixes = ${quote(postalCodeKey(query.postalCode))}`);
  return filter;
}

class MeiliTaskFailed extends Error {
  constructor(task: Task) {
    super(`Meilisearch task ${task.uid} (${task.type}) ${task.status}: ${task.error?.message ?? 'no detail'}`);
    this.name = 'MeiliTaskFailed';
  }
}

/**
 * The production search backend: the official `meilisearch` client. Writes are batched by the
 * projector (one task per batch), tagged with the checkpoint they cover, and awaited: the
 * projector moves its checkpoint only once the task succeeded.
 */
export function createMeilisearchIndex(options: MeilisearchIndexOptions): SearchIndex {
  const client = new Meilisearch({
    host: options.host,
    apiKey: options.apiKey,
    timeout: options.requestTimeoutMs ?? 10_000,
  });
  const uid = options.indexUid ?? DEFAULT_MEILI_INDEX;
  const index: Index<MeiliDocument> = client.index<MeiliDocument>(uid);
  const taskTimeout = options.taskTimeoutMs ?? 60_000;
  let tagTasks = true;

  async function succeeded(task: EnqueuedTaskPromise): Promise<Task> {
    const done = await task.waitTask({ timeout: taskTimeout, interval: 50 });
    if (done.status !== 'succeeded') throw new MeiliTaskFailed(done);
    return done;
  }

  async function fetchDocs(ids: readonly string[], fields?: Array<keyof MeiliDocument>) {
    const out: MeiliDocument[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const page = await index.getDocuments({
        filter: `id IN [${chunk.map(quote).join(', ')}]`,
        limit: chunk.length,
        ...(fields ? { fields } : {}),
      });
      out.push(...page.results);
    }
    return out;
  }

  const search = async (query: SearchQuery): Promise<SearchResult> => {
    const q = query.q?.trim() ?? '';
    const run = (matchingStrategy: 'all' | 'last') =>
      index.search(q, {
        filter: meiliFilter(query),
        // An empty query has no relevance; list the most recently updated first, like Postgres.
        sort: query.sort === 'updated' || q === '' ? ['updatedAtTs:desc'] : undefined,
        facets: [...FACET_FIELDS],
        page: query.page,
        hitsPerPage: query.perPage,
        matchingStrategy,
      });
    let response = await run('all');
    // Like the Postgres adapter: only when nothing matches every word are partial matches shown.
    if (response.totalHits === 0 && q.split(/\s+/).length >= 2) response = await run('last');
    const facets = emptyFacets();
    for (const field of FACET_FIELDS) Object.assign(facets[field], response.facetDistribution?.[field] ?? {});
    return {
      hits: response.hits.map((hit) => toHit(fromMeiliDocument(hit as MeiliDocument), query.q)),
      total: response.totalHits,
      page: query.page,
      perPage: query.perPage,
      facets,
    };
  };

  const self: SearchIndex = {
    backend: 'meilisearch',

    async setup() {
      try {
        await succeeded(client.createIndex(uid, { primaryKey: 'id' }));
      } catch (error) {
        if (!String((error as Error).message).includes('already exists')) throw error;
      }
      await succeeded(index.updateSettings(MEILI_SETTINGS));
    },

    async getDocuments(ids) {
      const docs = await fetchDocs(ids);
      return new Map(docs.map((d) => [d.id, fromMeiliDocument(d)]));
    },

    async upsert(docs, opts = {}) {
      if (docs.length === 0) return;
      // Meilisearch replaces unconditionally, so the version guard is done here: drop documents
      // that are not newer than what the index holds. One worker writes at a time (advisory
      // lock), so nothing can slip in between this read and the write.
      const stored = new Map(
        (
          await fetchDocs(
            docs.map((d) => d.id),
            ['id', 'version'],
          )
        ).map((d) => [d.id, d.version]),
      );
      const newer = docs.filter((d) => d.version > (stored.get(d.id) ?? 0)).map(toMeiliDocument);
      if (newer.length === 0) return;
      const metadata = tagTasks && opts.checkpoint ? { customMetadata: `checkpoint:${opts.checkpoint}` } : {};
      try {
        await succeeded(index.addDocuments(newer, { primaryKey: 'id', ...metadata }));
      } catch (error) {
        // Servers before customMetadata existed refuse the parameter: write untagged from then on.
        if (!('customMetadata' in metadata) || !/customMetadata/i.test(String((error as Error).message))) throw error;
        tagTasks = false;
        logger.warn({ index: uid }, 'this Meilisearch does not support task customMetadata; tasks are not tagged');
        await succeeded(index.addDocuments(newer, { primaryKey: 'id' }));
      }
    },

    search,

    async versions() {
      const out = new Map<string, number>();
      for (let offset = 0; ; offset += 1_000) {
        const page = await index.getDocuments({ fields: ['id', 'version'], limit: 1_000, offset });
        for (const d of page.results) out.set(d.id, d.version);
        if (page.results.length < 1_000) return out;
      }
    },

    async health() {
      try {
        await client.health();
        await index.getRawInfo();
        return { ok: true, backend: 'meilisearch' };
      } catch (error) {
        return { ok: false, backend: 'meilisearch', detail: String((error as Error).message ?? error) };
      }
    },

    async prepareRebuild(): Promise<SearchIndexRebuild> {
      const nextUid = `${uid}_rebuild_${Date.now()}`;
      const next = createMeilisearchIndex({ ...options, indexUid: nextUid });
      await next.setup();
      return {
        index: next,
        async swap() {
          // Atomic on the server: searches see the old index or the new one, never a mix. The
          // swapped-out copy (now under nextUid) is deleted afterwards.
          // `rename` is left out: servers before it existed refuse unknown fields, and a swap is
          // what both old and new servers do without it.
          await succeeded(client.swapIndexes([{ indexes: [uid, nextUid] } as IndexSwap]));
          await succeeded(client.deleteIndex(nextUid));
        },
        async discard() {
          await succeeded(client.deleteIndex(nextUid)).catch(() => {});
        },
      };
    },

    async close() {},
  };
  return self;
}
