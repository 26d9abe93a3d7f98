import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { logger } from '@/lib/logger';
import { projectorTestbed } from '@/test/projector-testbed';
import { rebuildProjections } from './rebuild';
import { waitFor, waitForProjection, writeHistory } from './testing';

const bed = projectorTestbed('settle', { batchSize: 10 });
const SEARCH_TABLES = ['address_search', 'address_search_words'];

/** Pending GIN entries per index of the search tables (pgstattuple, as the superuser). */
async function pendingGinTuples(): Promise<Record<string, number>> {
  const su = new pg.Client({ connectionString: bed.db.superuserUrl });
  await su.connect();
  try {
    await su.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    const { rows } = await su.query<{ index: string; pending: number }>(
      `SELECT i.relname AS index, (pgstatginindex(i.oid)).pending_tuples::int AS pending
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam
        WHERE a.amname = 'gin' AND x.indrelid::regclass::text = ANY($1) ORDER BY 1`,
      [SEARCH_TABLES],
    );
    return Object.fromEntries(rows.map((r) => [r.index, r.pending]));
  } finally {
    await su.end();
  }
}

/** Tables of `names` the planner has statistics for (what ANALYZE writes, in its transaction). */
async function analysed(names: string[]): Promise<string[]> {
  const { rows } = await bed.db.ownerPool.query<{ table: string }>(
    'SELECT DISTINCT tablename AS table FROM pg_stats WHERE schemaname = $1 AND tablename = ANY($2) ',
    ['public', names],
  );
  return rows.map((r) => r.table).sort();
}

const searchRunner = (projector: Awaited<ReturnType<typeof bed.start>>) =>
  projector.runners.find((r) => r.name === 'address_search')!;

describe('settling the search index after many writes', () => {
  it('leaves the pending lists as they are below the threshold, and settles them once in the next term', async () => {
    await writeHistory(bed.ledger, 12, 'few');
    const first = await bed.start({ settleAfterDocuments: 1_000_000 });
    const runner = searchRunner(first);
    // Every term settles once at its first look that finds nothing; after that only past the threshold.
    await waitFor('the first term to settle once', async () => runner.settles === 1);
    await waitForProjection(bed.db.pool, 'address_search');
    await writeHistory(bed.ledger, 12, 'more');
    await waitForProjection(bed.db.pool, 'address_search');
    // Caught up and idle for a round at least: a settle would have run by now.
    const reads = runner.reads;
    await waitFor('the runner to look again', async () => runner.reads > reads + 1);
    expect(runner.settles).toBe(1);
    const pending = await pendingGinTuples();
    expect(Object.keys(pending).length).toBeGreaterThanOrEqual(3);
    expect(Object.values(pending).some((n) => n > 0)).toBe(true);

    // A restart (or a takeover after a crash half way through an import): the new term does not
    // know what its predecessor left unsettled, so it settles although it writes nothing itself.
    await bed.stopAll();
    const second = searchRunner(await bed.start({ settleAfterDocuments: 1_000_000 }));
    await waitFor('the next term to settle', async () => second.settles === 1);
    expect(Object.values(await pendingGinTuples()).every((n) => n === 0)).toBe(true);
  });

  it('merges them and analyses both tables once caught up past the threshold', async () => {
    await writeHistory(bed.ledger, 30, 'many');
    // Any written document makes a settle due: the gap-safe read can come back empty before the
    // head while a transaction in another database is open (CI runs files side by side), so a
    // larger threshold could be crossed by an early settle and the rest left for the next one.
    const projector = await bed.start({ settleAfterDocuments: 1 });
    await waitForProjection(bed.db.pool, 'address_search');
    const runner = searchRunner(projector);
    await waitFor(
      'the search projection to settle at the head',
      async () => runner.settles >= 1 && runner.writtenSinceSettle === 0,
    );
    expect(Object.values(await pendingGinTuples()).every((n) => n === 0)).toBe(true);
    expect(await analysed(SEARCH_TABLES)).toEqual(SEARCH_TABLES);
  });

  it('swaps rebuilt copies in with their statistics', async () => {
    await writeHistory(bed.ledger, 5, 'rebuilt');
    await rebuildProjections({
      databaseUrl: bed.db.url,
      searchIndex: bed.index,
      batchSize: 25,
      log: logger.child({ test: 'settle' }),
    });
    // New tables: a copy has no statistics of its own unless it was analysed before the swap.
    expect(await analysed(['address_view', ...SEARCH_TABLES])).toEqual([...SEARCH_TABLES, 'address_view'].sort());
    expect(Object.values(await pendingGinTuples()).every((n) => n === 0)).toBe(true);
  });
});
