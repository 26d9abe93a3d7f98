import type pg from 'pg';
import type { RecordedEvent } from '@/domain/messages';
import type { Logger } from '@/lib/logger';
import { type AddressDoc, foldBatch, type ParkedEvent } from './address-view/projection';
import { ADDRESS_VIEW_TABLE, loadDocs, writeDocs } from './address-view/writer';
import type { ProjectionName } from './checkpoints';
import { type Queryable, withTransaction } from './pg';
import type { SearchIndex } from './search/search-index';

export interface ProjectionBatch {
  /** As stored: each projection upcasts them itself, so one unreadable event parks one stream. */
  events: RecordedEvent[];
  /** Cursor the batch starts after (the stored checkpoint). */
  from: string;
  /** Cursor of the last event in the batch: the new checkpoint. */
  to: string;
  /** Parked streams: their events wait. */
  held: ReadonlySet<string>;
  /** Event ids an admin skipped. */
  skipped: ReadonlySet<string>;
  /** Parked streams an admin asked to resume, with their events from the parked one on. */
  resume: ReadonlyArray<{ streamId: string; events: RecordedEvent[] }>;
}

/** What the batch's commit records beside the checkpoint. */
export interface BatchOutcome {
  parked: ParkedEvent[];
  /** Streams resumed by this batch (unparked unless they are in `parked` again). */
  resumed: string[];
}

/**
 * One projection as the runner drives it. `apply` writes the batch and calls `commit` to store the
 * checkpoint (with the digest and the parked streams): inside the same transaction when the target
 * is this Postgres database, or only after the target confirmed the write when it is external.
 * Either way a crash leaves the checkpoint at or behind what was written, never ahead of it; the
 * version guard absorbs the replay.
 */
export interface Projection {
  readonly name: ProjectionName;
  /** Wait this long for more events before applying a small batch (fewer, larger index writes). */
  readonly lingerMs: number;
  setup(): Promise<void>;
  /** After many writes, once caught up: make them cheap to read (SearchIndex.settle). */
  settle?(): Promise<void>;
  apply(
    batch: ProjectionBatch,
    commit: (q: Queryable, outcome: BatchOutcome) => Promise<void>,
  ): Promise<{ written: number } & BatchOutcome>;
}

export interface ProjectionHooks {
  /** Fault injection for crash tests: runs inside the write transaction, just before commit. */
  beforeCommit?: (batch: ProjectionBatch) => Promise<void>;
  /** Stored shape → current shape (default: the domain's upcasters); tests stand a "fixed" one in. */
  upcast?: (event: RecordedEvent) => RecordedEvent;
}

function logOutcome(log: Logger, projection: string, unknownTypes: string[], parked: ParkedEvent[]) {
  if (unknownTypes.length > 0) {
    log.warn(
      { projection, types: [...new Set(unknownTypes)] },
      'skipped events of a type this projector does not know',
    );
  }
  for (const p of parked) {
    // Only the error's class: its message may quote the event's data (an address), which stays
    // in the database for admins (parked_streams.error) and out of the logs.
    const errorName = p.error.split(':')[0];
    log.error(
      { projection, streamId: p.streamId, eventId: p.eventId, type: p.type, position: p.position, errorName },
      'could not apply an event: its address is parked, every other address keeps projecting',
    );
  }
}

/** Folds the resumed streams' events, then the batch, onto the projection's own documents. */
async function foldProjectionBatch(
  batch: ProjectionBatch,
  load: (ids: string[]) => Promise<Map<string, AddressDoc>>,
  hooks: ProjectionHooks,
) {
  const resumed = batch.resume.map((r) => r.streamId);
  const held = new Set([...batch.held].filter((s) => !resumed.includes(s)));
  const events = [...batch.resume.flatMap((r) => r.events), ...batch.events];
  const result = await foldBatch(events, load, { upcast: hooks.upcast, held, skipped: batch.skipped });
  return { ...result, resumed };
}

/** address_view: documents and checkpoint in one Postgres transaction. */
export function addressViewProjection(
  pool: pg.Pool,
  log: Logger,
  hooks: ProjectionHooks = {},
  table = ADDRESS_VIEW_TABLE,
): Projection {
  return {
    name: 'address_view',
    lingerMs: 0,
    async setup() {
      await pool.query(`SELECT 1 FROM ${table} LIMIT 1`);
    },
    async apply(batch, commit) {
      return withTransaction(pool, async (client) => {
        const { changed, unknownTypes, parked, resumed } = await foldProjectionBatch(
          batch,
          (ids) => loadDocs(client, ids, table),
          hooks,
        );
        logOutcome(log, 'address_view', unknownTypes, parked);
        await writeDocs(client, changed, table);
        await commit(client, { parked, resumed });
        await hooks.beforeCommit?.(batch);
        return { written: changed.length, parked, resumed };
      });
    },
  };
}

/**
 * address_search: folds onto the documents the index itself holds (so it never depends on
 * address_view being up to date), writes them, and moves the checkpoint once the index confirmed.
 */
export function searchProjection(
  index: SearchIndex,
  pool: pg.Pool,
  log: Logger,
  options: { lingerMs?: number; hooks?: ProjectionHooks } = {},
): Projection {
  return {
    name: 'address_search',
    lingerMs: options.lingerMs ?? (index.backend === 'meilisearch' ? 100 : 0),
    setup: () => index.setup(),
    settle: () => index.settle(),
    async apply(batch, commit) {
      const { changed, unknownTypes, parked, resumed } = await foldProjectionBatch(
        batch,
        (ids) => index.getDocuments(ids),
        options.hooks ?? {},
      );
      logOutcome(log, 'address_search', unknownTypes, parked);
      if (changed.length > 0) await index.upsert(changed, { checkpoint: batch.to });
      await withTransaction(pool, (client) => commit(client, { parked, resumed }));
      return { written: changed.length, parked, resumed };
    },
  };
}

export type { AddressDoc };
