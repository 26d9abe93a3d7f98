import { createHash } from 'node:crypto';
import {
  type EnqueuedTask,
  type IndexSwap,
  Meilisearch,
  MeilisearchApiError,
  MeilisearchTaskTimeOutError,
  type SearchParams,
  type SearchResponse,
  type Settings,
  type Task,
} from 'meilisearch';
import { logger } from '@/lib/logger';
import {
  correctedRequest,
  didYouMeanFromHits,
  type FederatedSearchRequest,
  fallbackRequest,
  hitsWithinCap,
  idFilter,
  isValidDocumentId,
  type MeiliDocument,
  meiliFilterParts,
  meiliSettings,
  searchRequest,
  settingsToUpdate,
  toMeiliDocument,
  versionProblem,
} from './meilisearch-mapping';
import { queryWords } from './normalize';
import {
  cappedTotal,
  facetCounts,
  SEARCH_MAX_TOTAL_HITS,
  type SearchIndex,
  type SearchIndexRebuild,
  type SearchQuery,
  type SearchResult,
  toHit,
  type UnmatchedFilter,
} from './search-index';

export const DEFAULT_MEILI_INDEX = 'addresses';

/** Index uids of rebuild copies: `<live uid>_rebuild_<ms>` (the write key's index pattern covers them). */
export const rebuildIndexPrefix = (uid: string) => `${uid}_rebuild_`;

type Hit = Pick<MeiliDocument, 'doc'>;

/** The part of one index's client the adapter uses (the official `Index` satisfies it). */
export interface MeiliIndexClient {
  getSettings(): Promise<Settings>;
  updateSettings(settings: Settings): PromiseLike<EnqueuedTask>;
  addDocuments(
    docs: MeiliDocument[],
    options: { primaryKey: string; customMetadata?: string },
  ): PromiseLike<EnqueuedTask>;
  getDocuments(params: {
    filter?: string;
    fields?: Array<keyof MeiliDocument>;
    limit: number;
    offset?: number;
  }): Promise<{ results: MeiliDocument[] }>;
  search(q: string, params: SearchParams): Promise<SearchResponse<Hit>>;
}

/**
 * The part of the official `meilisearch` client the adapter uses: the seam where
 * meilisearch-search-index.unit.spec.ts puts a fake and reads what would have been sent.
 */
export interface MeiliClient {
  getVersion(): Promise<{ pkgVersion: string }>;
  health(): Promise<unknown>;
  getRawIndex(uid: string): Promise<unknown>;
  getRawIndexes(params: {
    limit: number;
    offset?: number;
  }): Promise<{ results: Array<{ uid: string }>; total: number }>;
  createIndex(uid: string, options: { primaryKey: string }): PromiseLike<EnqueuedTask>;
  deleteIndex(uid: string): PromiseLike<EnqueuedTask>;
  swapIndexes(swaps: IndexSwap[]): PromiseLike<EnqueuedTask>;
  multiSearch(request: FederatedSearchRequest): Promise<SearchResponse<Hit>>;
  tasks: { waitForTask(uid: number, options: { timeout: number; interval: number }): Promise<Task> };
  index(uid: string): MeiliIndexClient;
}

export interface MeilisearchIndexOptions {
  host: string;
  apiKey?: string;
  indexUid?: string;
  /** How long one wait for a task lasts before the write counts as not yet done (and is retried). */
  taskTimeoutMs?: number;
  /** Per-request timeout, so an unreachable server fails a batch instead of hanging it. */
  requestTimeoutMs?: number;
  /** Matches counted and paged through (search-index.ts SEARCH_MAX_TOTAL_HITS). */
  maxTotalHits?: number;
  /** Tests only: a client to use instead of the official one. */
  client?: MeiliClient;
}

/** The Meilisearch error code of a failed request (never its message text, which changes between versions). */
export function meiliErrorCode(error: unknown): string | undefined {
  return error instanceof MeilisearchApiError ? error.cause?.code : undefined;
}

export class MeiliTaskFailed extends Error {
  readonly code: string | undefined;
  constructor(task: Task) {
    super(`Meilisearch task ${task.uid} (${task.type}) ${task.status}: ${task.error?.message ?? 'no detail'}`);
    this.name = 'MeiliTaskFailed';
    this.code = task.error?.code;
  }
}

/** A task that did not finish within one wait; it keeps running on the server. */
export class MeiliTaskStillRunning extends Error {
  constructor(readonly taskUid: number) {
    super(`Meilisearch task ${taskUid} is still enqueued or processing; the next attempt waits for it`);
    this.name = 'MeiliTaskStillRunning';
  }
}

function succeeded(task: Task): Task {
  if (task.status !== 'succeeded') throw new MeiliTaskFailed(task);
  return task;
}

/** One key per set of document versions, so a retried batch finds the task it already enqueued. */
function batchKey(docs: readonly MeiliDocument[]): string {
  const hash = createHash('sha256');
  for (const d of [...docs].sort((a, b) => (a.id < b.id ? -1 : 1))) hash.update(`${d.id}:${d.version}\n`);
  return hash.digest('hex');
}

/**
 * The Meilisearch search backend on the official `meilisearch` client. Writes are batched by the
 * projector (one task per batch), tagged with the checkpoint they cover, and awaited: the
 * projector moves its checkpoint only once the task succeeded. Searches send normalize.ts's
 * folded words and match the folded fields, so the answers are the Postgres adapter's
 * (contract.ts holds both to that).
 */
export function createMeilisearchIndex(options: MeilisearchIndexOptions): SearchIndex {
  const client: MeiliClient =
    options.client ??
    new Meilisearch({ host: options.host, apiKey: options.apiKey, timeout: options.requestTimeoutMs ?? 10_000 });
  const uid = options.indexUid ?? DEFAULT_MEILI_INDEX;
  const index = client.index(uid);
  const taskTimeout = options.taskTimeoutMs ?? 60_000;
  const maxTotalHits = options.maxTotalHits ?? SEARCH_MAX_TOTAL_HITS;
  const log = logger.child({ index: uid });
  /** The document task of the last batch that has not been seen to finish. */
  let pendingWrite: { key: string; taskUid: number } | null = null;

  async function waitOnce(taskUid: number): Promise<Task> {
    try {
      return await client.tasks.waitForTask(taskUid, { timeout: taskTimeout, interval: 50 });
    } catch (error) {
      if (error instanceof MeilisearchTaskTimeOutError) throw new MeiliTaskStillRunning(taskUid);
      // Without tasks.get no write can be confirmed, and the projector would retry it for ever.
      if (meiliErrorCode(error) === 'invalid_api_key') {
        throw new Error(
          `the Meilisearch key may not read task ${taskUid}: the write key needs tasks.get (projections/README.md)`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /** Waits until the task is finished, however long (a settings change can reindex for minutes). */
  async function settle(enqueued: PromiseLike<EnqueuedTask>, what: string): Promise<Task> {
    const { taskUid } = await enqueued;
    for (;;) {
      try {
        return await waitOnce(taskUid);
      } catch (error) {
        if (!(error instanceof MeiliTaskStillRunning)) throw error;
        log.warn({ taskUid, what }, 'Meilisearch task still running; waiting on for the same task');
      }
    }
  }

  async function deleteIndex(target: string): Promise<void> {
    try {
      const task = await settle(client.deleteIndex(target), 'delete index');
      if (task.status !== 'succeeded' && task.error?.code !== 'index_not_found') throw new MeiliTaskFailed(task);
    } catch (error) {
      log.error({ target, err: String((error as Error).message ?? error) }, 'could not delete a Meilisearch index');
    }
  }

  async function fetchDocs(ids: readonly string[], fields?: Array<keyof MeiliDocument>) {
    const out: MeiliDocument[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const page = await index.getDocuments({
        filter: idFilter(chunk),
        limit: chunk.length,
        ...(fields ? { fields } : {}),
      });
      out.push(...page.results);
    }
    return out;
  }

  async function search(query: SearchQuery): Promise<SearchResult> {
    const words = queryWords(query.q);
    const first = searchRequest(query, words);
    let response = await index.search(first.q, first.params);
    let distribution = response.facetDistribution;
    const fallback = (response.totalHits ?? 0) === 0 ? fallbackRequest(query, words, uid) : null;
    if (fallback) {
      response = await client.multiSearch(fallback);
      distribution = response.facetsByIndex?.[uid]?.distribution;
    }
    const didYouMean = didYouMeanFromHits(
      words,
      hitsWithinCap(response.hits, query, maxTotalHits).map((hit) => hit.doc),
    );
    // Meilisearch ranks two one-typo words alike ("mian": Main and Mina), then by the last update;
    // asking for the corrected words first, as Postgres ranks them, puts the intended street on top.
    const corrected = didYouMean && !fallback ? correctedRequest(query, words, didYouMean.split(' '), uid) : null;
    if (corrected) {
      response = await client.multiSearch(corrected);
      distribution = response.facetsByIndex?.[uid]?.distribution;
    }
    const entries = Object.entries(distribution ?? {}).flatMap(([field, values]) =>
      Object.entries(values).map(([value, n]) => [field, value, n] as const),
    );
    const hits = hitsWithinCap(response.hits, query, maxTotalHits);
    const total = response.totalHits ?? 0;
    return {
      hits: hits.map((hit) => toHit(hit.doc, query.q)),
      ...cappedTotal(total, maxTotalHits),
      page: query.page,
      perPage: query.perPage,
      facets: facetCounts(entries),
      // Meilisearch counts facets over every match.
      facetsSample: null,
      didYouMean,
      unmatchedFilters: total === 0 ? await filtersMatchingNothing(query) : [],
    };
  }

  /** Which of the query's filters no document passes, each on its own (one small search each). */
  async function filtersMatchingNothing(query: SearchQuery): Promise<UnmatchedFilter[]> {
    const parts = meiliFilterParts(query);
    const found = await Promise.all(
      parts.map((part) => index.search('', { filter: [part.filter], limit: 1, attributesToRetrieve: ['id'] })),
    );
    return parts.filter((_, i) => found[i]!.hits.length === 0).map(({ field, value }) => ({ field, value }));
  }

  const self: SearchIndex = {
    backend: 'meilisearch',

    async setup() {
      const { pkgVersion } = await client.getVersion();
      const problem = versionProblem(pkgVersion);
      if (problem) throw new Error(problem);
      let existed = true;
      try {
        await client.getRawIndex(uid);
      } catch (error) {
        if (meiliErrorCode(error) !== 'index_not_found') throw error;
        existed = false;
        const created = await settle(client.createIndex(uid, { primaryKey: 'id' }), 'create index');
        // Another process may have created it in between: that is what we wanted.
        if (created.status !== 'succeeded' && created.error?.code !== 'index_already_exists') {
          throw new MeiliTaskFailed(created);
        }
      }
      const update = settingsToUpdate(meiliSettings(maxTotalHits), await index.getSettings());
      if (Object.keys(update).length === 0) return;
      if (existed && update.searchableAttributes) {
        log.error(
          { settings: Object.keys(update) },
          'the searchable fields changed: documents written before lack them until `npm run projections:rebuild -- address_search`',
        );
      }
      log.info({ settings: Object.keys(update) }, 'updating Meilisearch index settings');
      succeeded(await settle(index.updateSettings(update), 'update settings'));
    },

    async getDocuments(ids) {
      const docs = await fetchDocs(ids);
      return new Map(docs.map((d) => [d.id, d.doc]));
    },

    async upsert(docs, opts = {}) {
      const valid = docs.filter((d) => isValidDocumentId(d.id));
      if (valid.length < docs.length) {
        log.error(
          { refused: docs.filter((d) => !isValidDocumentId(d.id)).map((d) => d.id.slice(0, 100)) },
          'documents with ids Meilisearch refuses are left out of the search index',
        );
      }
      if (valid.length === 0) return;
      // Meilisearch replaces unconditionally, so the version guard is done here: drop documents
      // that are not newer than what the index holds. One worker writes at a time (advisory
      // lock), so nothing can slip in between this read and the write.
      const stored = new Map(
        (
          await fetchDocs(
            valid.map((d) => d.id),
            ['id', 'version'],
          )
        ).map((d) => [d.id, d.version]),
      );
      const newer = valid.filter((d) => d.version > (stored.get(d.id) ?? 0)).map(toMeiliDocument);
      if (newer.length === 0) return;
      // A write whose wait timed out is still queued or running on the server: the retry waits on
      // that task instead of enqueueing the same documents again.
      const key = batchKey(newer);
      if (pendingWrite?.key !== key) {
        const enqueued = await index.addDocuments(newer, {
          primaryKey: 'id',
          ...(opts.checkpoint ? { customMetadata: `checkpoint:${opts.checkpoint}` } : {}),
        });
        pendingWrite = { key, taskUid: enqueued.taskUid };
      }
      const { taskUid } = pendingWrite;
      let task: Task;
      try {
        task = await waitOnce(taskUid);
      } catch (error) {
        // The server forgot the task (restarted without its data): the retry enqueues again.
        if (meiliErrorCode(error) === 'task_not_found') pendingWrite = null;
        throw error;
      }
      pendingWrite = null;
      succeeded(task);
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
        // A search, not GET /indexes/{uid}: the web tier's key may only search.
        await index.search('', { limit: 0 });
        return { ok: true, backend: 'meilisearch' };
      } catch (error) {
        return { ok: false, backend: 'meilisearch', detail: String((error as Error).message ?? error) };
      }
    },

    // Nothing to do: Meilisearch finishes indexing a batch before `upsert` resolves (it waits for
    // the task), and keeps no planner statistics that could go stale.
    async settle() {},

    async prepareRebuild(): Promise<SearchIndexRebuild> {
      // Copies left by a rebuild that died: the Postgres adapter drops its leftover copy the same
      // way (table-swap.ts createTableCopy). One rebuild runs at a time (rebuild-job.ts lock).
      const { results } = await client.getRawIndexes({ limit: 1_000 });
      for (const other of results) if (other.uid.startsWith(rebuildIndexPrefix(uid))) await deleteIndex(other.uid);
      const nextUid = `${rebuildIndexPrefix(uid)}${Date.now()}`;
      const next = createMeilisearchIndex({ ...options, client, indexUid: nextUid });
      try {
        await next.setup();
      } catch (error) {
        await deleteIndex(nextUid);
        throw error;
      }
      return {
        index: next,
        async swap() {
          // Atomic on the server: searches see the old index or the new one, never a mix. Waited
          // for until it is final, so the rebuild never reports failure for a swap that happens
          // later, nor success for one that failed. `rename` is left out: a plain swap of two
          // existing indexes is what every supported version does.
          succeeded(await settle(client.swapIndexes([{ indexes: [uid, nextUid] } as IndexSwap]), 'swap indexes'));
          // nextUid now holds the old documents.
          await deleteIndex(nextUid);
        },
        discard: () => deleteIndex(nextUid),
      };
    },

    async close() {},
  };
  return self;
}
