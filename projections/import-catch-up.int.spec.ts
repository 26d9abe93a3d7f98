/**
 * The projector running through an import, as `npm start` runs it: batches grow while it is
 * behind (runner.ts `maxBatchSize`) and the Postgres search index counts its vocabulary in Node
 * from the rows each upsert wrote (search/postgres-search-index.ts). Whatever the batch sizes
 * and however the import's appends interleave with other writers, the read models must end
 * equal to a replay from event zero, and the vocabulary equal to one rebuilt from scratch.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { importCsvFile } from '@/lib/import-csv';
import { projectorTestbed } from '@/test/projector-testbed';
import { replayAddresses } from './address-view/projection';
import { SAMPLE_CSV } from './search/fixtures/sample';
import { addressViewDocs, allEvents, commands, waitForProjection, writeHistory } from './testing';

const BATCH = 20;
const MAX_BATCH = 640;
const bed = projectorTestbed('import-catch-up', { batchSize: BATCH, maxBatchSize: MAX_BATCH, pollMs: 100 });

/** The projector's log lines, as objects (which batch sizes it applied). */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const batchSizes = (lines: Array<Record<string, unknown>>, projection: string) =>
  lines.filter((l) => l.msg === 'batch applied' && l.projection === projection).map((l) => Number(l.events));

/** The vocabulary of a search table as the migration defines it: each word and how many documents hold it. */
const vocabularyOf = async (table: string, wordsTable: string) => {
  const { rows: counted } = await bed.db.pool.query<{ word: string; documents: number }>(
    `SELECT w AS word, count(*)::int AS documents
       FROM (SELECT DISTINCT s.id, w FROM ${table} s, unnest(string_to_array(s.search_text, ' ')) AS w) x
      WHERE w <> '' GROUP BY w ORDER BY w COLLATE "C"`,
  );
  const { rows: stored } = await bed.db.pool.query<{ word: string; documents: number }>(
    `SELECT word, documents FROM ${wordsTable} WHERE documents > 0 ORDER BY word COLLATE "C"`,
  );
  return { counted, stored };
};

describe('the projector during an import', () => {
  it('ends with address_view, address_search and its vocabulary equal to a replay and a rebuild from scratch', async () => {
    const { log, lines } = capturedLog();
    await bed.start({ log });
    // Other writers change and archive addresses while the import runs, so batches mix new
    // documents (first versions) with replaced ones, whose words the vocabulary counts down.
    const [summary] = await Promise.all([
      importCsvFile(bed.ledger, SAMPLE_CSV, {
        source: 'catch-up',
        actor: { id: 'import-test', name: 'Import test', role: 'system' },
      }),
      writeHistory(bed.ledger, 30, 'during'),
    ]);
    expect(summary.registered).toBeGreaterThan(2_000);
    // And imported addresses change their street after it: their old words are counted down.
    const c = commands(bed.ledger);
    await waitForProjection(bed.db.pool, 'address_view', { timeoutMs: 60_000 });
    const some = await bed.db.pool.query<{ address_id: string }>(
      `SELECT address_id FROM address_view WHERE last_actor_id = 'import-test' ORDER BY address_id LIMIT 5`,
    );
    for (const [i, row] of some.rows.entries()) await c.change(row.address_id, { line1: `${i + 1} Yak Lane` });

    await waitForProjection(bed.db.pool, 'address_view', { timeoutMs: 60_000 });
    await waitForProjection(bed.db.pool, 'address_search', { timeoutMs: 60_000 });

    // Batches grew while the projector was behind, and never past the cap.
    for (const projection of ['address_view', 'address_search']) {
      const sizes = batchSizes(lines, projection);
      expect(Math.max(...sizes), projection).toBeGreaterThan(BATCH);
      expect(Math.max(...sizes), projection).toBeLessThanOrEqual(MAX_BATCH);
    }

    const expected = replayAddresses(await allEvents(bed.db.pool));
    expect(await addressViewDocs(bed.db.pool)).toEqual(expected);
    expect(await bed.index.getDocuments([...expected.keys()])).toEqual(expected);
    expect(await bed.index.getDocuments(some.rows.map((r) => r.address_id))).toSatisfy(
      (docs: Map<string, { line1: string }>) =>
        docs.size === 5 && [...docs.values()].every((d) => d.line1.endsWith(' Yak Lane')),
    );

    // The live vocabulary counts exactly the live documents' words...
    const live = await vocabularyOf('address_search', 'address_search_words');
    expect(live.stored.length).toBeGreaterThan(100);
    expect(live.stored).toEqual(live.counted);
    expect(live.stored).toContainEqual({ word: 'yak', documents: 5 });

    // ...and equals the vocabulary of an index rebuilt from scratch with the replayed documents.
    const rebuild = await bed.index.prepareRebuild();
    try {
      await rebuild.index.upsert([...expected.values()], { checkpoint: 'rebuild' });
      const fresh = await vocabularyOf('address_search_rebuild', 'address_search_words_rebuild');
      expect(fresh.stored).toEqual(fresh.counted);
      expect(live.stored).toEqual(fresh.stored);
      const columns = 'id, version, status, city, region, postal_code, country, updated_at, doc, search_text';
      const rows = async (table: string) =>
        (await bed.db.pool.query(`SELECT ${columns} FROM ${table} ORDER BY id`)).rows;
      expect(await rows('address_search')).toEqual(await rows('address_search_rebuild'));
    } finally {
      await rebuild.discard();
    }
  }, 120_000);
});
