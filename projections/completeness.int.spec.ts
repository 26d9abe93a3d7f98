import { describe, expect, it } from 'vitest';
import { logger } from '@/lib/logger';
import { waitForAllEventsVisible } from '@/test/db';
import { projectorTestbed } from '@/test/projector-testbed';
import { setCheckpoint } from './checkpoints';
import { DIGEST_RANGE } from './completeness';
import { readSideHealth } from './read-side';
import { rebuildProjections } from './rebuild';
import { getProjectionStatus } from './status';
import { commands, headCursor, waitFor, waitForProjection, writeHistory } from './testing';

const log = logger.child({ test: 'completeness' });
const bed = projectorTestbed('completeness', {
  batchSize: 20,
  completeness: { checkMs: 200, fullEveryMs: 60_000 },
});

const start = () => bed.start();

async function projection(name: string) {
  const status = await getProjectionStatus(bed.db.pool);
  return status.projections.find((p) => p.name === name)!;
}

/** Waits for a verdict of the checker about the checkpoint as it is now. */
const verdict = (name: string, complete: boolean, timeoutMs = 10_000) =>
  waitFor(
    `${name} to be reported complete: ${complete}`,
    async () => {
      const p = await projection(name);
      return p.complete === complete ? p : null;
    },
    { timeoutMs },
  );

describe('completeness digests', () => {
  it('are complete after projecting, with the digest counting every event passed', async () => {
    await writeHistory(bed.ledger, 12, 'digest');
    await start();
    await waitForProjection(bed.db.pool, 'address_view');
    await waitForProjection(bed.db.pool, 'address_search');
    for (const name of ['address_view', 'address_search']) {
      const p = await verdict(name, true);
      expect(p.incompleteRange).toBeNull();
      const { rows } = await bed.db.pool.query<{ n: string }>(
        'SELECT sum(event_count)::text AS n FROM projection_digests WHERE projection = $1',
        [name],
      );
      const events = await bed.db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
      expect(rows[0]!.n).toBe(events.rows[0]!.n);
    }
    const health = await readSideHealth({ pool: bed.db.pool, search: bed.index });
    expect(health.projector.status).toBe('ok');
  });

  it('reports an event hidden from a projection within 10 s, naming its range; a rebuild restores it', async () => {
    await start();
    await waitForProjection(bed.db.pool, 'address_view');
    await verdict('address_view', true);
    await bed.stopAll();

    // The bug this guards against: the checkpoint moves past an event that was never applied.
    const hidden = await commands(bed.ledger).register({ line1: '77 Hidden Lane', owner: 'hidden' });
    await waitForAllEventsVisible(bed.db.pool);
    const { rows } = await bed.db.pool.query<{ position: string }>(
      `SELECT position::text FROM events WHERE stream_id = $1`,
      [`address-${hidden}`],
    );
    const position = BigInt(rows[0]!.position);
    await setCheckpoint(bed.db.pool, 'address_view', await headCursor(bed.db.pool));

    await start();
    const p = await verdict('address_view', false, 10_000);
    const rangeStart = (position / BigInt(DIGEST_RANGE)) * BigInt(DIGEST_RANGE);
    expect(p.incompleteRange).toEqual({
      from: String(rangeStart),
      to: String(rangeStart + BigInt(DIGEST_RANGE) - 1n),
      expectedEvents: expect.any(String),
      projectedEvents: expect.any(String),
    });
    expect(BigInt(p.incompleteRange!.expectedEvents) - BigInt(p.incompleteRange!.projectedEvents)).toBe(1n);
    // Its lag is zero all along: the lag alone would have said everything is fine.
    expect(p.lagEvents).toBe(0);
    const health = await readSideHealth({ pool: bed.db.pool, search: bed.index });
    expect(health.projector.status).toBe('degraded');
    expect(
      health.projector.status !== 'unknown' && health.projector.projections.find((x) => x.name === 'address_view'),
    ).toMatchObject({ complete: false, incompleteRange: { from: String(rangeStart) } });
    // The search projection did apply it and stays complete.
    expect((await verdict('address_search', true)).complete).toBe(true);

    await rebuildProjections({ databaseUrl: bed.db.url, searchIndex: bed.index, projections: ['address_view'], log });
    await verdict('address_view', true);
    const view = await bed.db.pool.query('SELECT 1 FROM address_view WHERE address_id = $1', [hidden]);
    expect(view.rowCount).toBe(1);
    expect((await readSideHealth({ pool: bed.db.pool, search: bed.index })).projector.status).toBe('ok');
  });

  it('notices a digest row changed by hand (a full comparison of every range, not only new events)', async () => {
    await start();
    await verdict('address_view', true);
    await bed.db.pool.query(
      `UPDATE projection_digests SET hash_sum = hash_sum + 1
        WHERE projection = 'address_view' AND range_start = (SELECT min(range_start) FROM projection_digests)`,
    );
    const p = await verdict('address_view', false);
    expect(p.incompleteRange?.expectedEvents).toBe(p.incompleteRange?.projectedEvents);
    await bed.db.pool.query(
      `UPDATE projection_digests SET hash_sum = hash_sum - 1
        WHERE projection = 'address_view' AND range_start = (SELECT min(range_start) FROM projection_digests)`,
    );
    await verdict('address_view', true);
  });
});
