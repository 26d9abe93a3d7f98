import type pg from 'pg';
import { isAddressEventType } from '@/domain/address';
import type { RecordedEvent } from '@/domain/messages';
import type { Logger } from '@/lib/logger';
import type { AddressDoc } from './address-view/projection';
import { ADDRESS_VIEW_TABLE, foldBatch, loadDocs, writeDocs } from './address-view/writer';
import type { ProjectionName } from './checkpoints';
import { type Queryable, withTransaction } from './pg';
import type { SearchIndex } from './search/search-index';

export interface ProjectionBatch {
  events: RecordedEvent[];
  /** Cursor the batch starts after (the stored checkpoint). */
  from: string;
  /** Cursor of the last event in the batch: the new checkpoint. */
  to: string;
}

/**
 * One projection as the runner drives it. `apply` writes the batch and calls `commit` to store the
 * checkpoint: inside the same transaction when the target is this Postgres database, or only after
 * the target confirmed the write when it is external. Either way a crash leaves the checkpoint at or
 * behind what was written, never ahead of it; the version guard absorbs the replay.
 */
export interface Projection {
  readonly name: ProjectionName;
  /** Wait this long for more events before applying a small batch (fewer, larger index writes). */
  readonly lingerMs: number;
  setup(): Promise<void>;
  apply(batch: ProjectionBatch, commit: (q: Queryable) => Promise<void>): Promise<{ written: number }>;
}

export interface ProjectionHooks {
  /** Fault injection for crash tests: runs inside the write transaction, just before commit. */
  beforeCommit?: (batch: ProjectionBatch) => Promise<void>;
}

function logUnknown(log: Logger, projection: string, types: string[]) {
  if (types.length > 0) {
    log.warn({ projection, types: [...new Set(types)] }, 'skipped events of a type this projector does not know');
  }
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
        const { changed, unknownTypes } = await foldBatch(
          batch.events,
          (ids) => loadDocs(client, ids, table),
          isAddressEventType,
        );
        logUnknown(log, 'address_view', unknownTypes);
        await writeDocs(client, changed, table);
        await commit(client);
        await hooks.beforeCommit?.(batch);
        return { written: changed.length };
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
  options: { lingerMs?: number } = {},
): Projection {
  return {
    name: 'address_search',
    lingerMs: options.lingerMs ?? (index.backend === 'meilisearch' ? 100 : 0),
    setup: () => index.setup(),
    async apply(batch, commit) {
      const { changed, unknownTypes } = await foldBatch(
        batch.events,
        (ids) => index.getDocuments(ids),
        isAddressEventType,
      );
      logUnknown(log, 'address_search', unknownTypes);
      if (changed.length > 0) await index.upsert(changed, { checkpoint: batch.to });
      await commit(pool);
      return { written: changed.length };
    },
  };
}

export type { AddressDoc };
