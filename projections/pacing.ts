import type { Queryable } from './pg';
import { ownerLockHeldSql } from './runner';

export interface PacerOptions {
  /** Events a running projection may be behind before the writer waits for it. */
  maxLag: number;
  /** Between two looks while waiting. */
  pollMs?: number;
  /** A wait ends when the projection it waits for has not moved for this long. */
  stallMs?: number;
  /** Called once per wait, with the lag that started it. */
  onWait?: (lag: Lag) => void;
  /** Called when a wait ends: caught up, or given up on a projection that stopped moving. */
  onResume?: (outcome: { waitedMs: number; stalled: Lag | null }) => void;
}

export interface Lag {
  projection: string;
  /** Positions between the head and the projection's checkpoint. */
  events: number;
  position: number;
}

/**
 * A bulk writer's pace (the import): before each batch, waits while a running projection is more
 * than `maxLag` events behind the head, until it is within half of that. Without it, an import
 * that outpaces the projector on a shared machine leaves search behind by the difference of their
 * rates times the import's length: the Maine/New Hampshire file ended 7 s behind, a file a hundred
 * times larger would end minutes behind.
 *
 * Waited for: a projection whose worker holds its owner lock (projections/runner.ts) and whose
 * last batch did not fail. One nobody runs is not waited for (an import with the projector stopped
 * goes at full speed; the projector catches up when it starts); nor is one that keeps failing
 * (its search backend is down), which holds its lock while it retries. A projection that stops
 * moving for `stallMs` while waited for ends the wait, so a stuck worker cannot hold an import
 * forever; the next batch looks again. The lag is the distance in positions (a rolled-back append
 * leaves a gap), which errs towards waiting a little longer than the count of events would.
 */
export function projectionPacer(q: Queryable, options: PacerOptions): () => Promise<void> {
  if (!(Number.isFinite(options.maxLag) && options.maxLag >= 0)) {
    throw new RangeError(`maxLag must be a finite number of events, 0 or more (got ${options.maxLag})`);
  }
  const pollMs = options.pollMs ?? 200;
  const stallMs = options.stallMs ?? 30_000;
  const resumeAt = Math.floor(options.maxLag / 2);
  const worstLag = async (): Promise<Lag | null> => {
    const { rows } = await q.query<{ name: string; lag: string; position: string }>(
      `SELECT x.name, x.lag::text AS lag, x.position::text AS position FROM (
         SELECT c.name, c.position, (SELECT coalesce(max(e.position), 0) FROM events e) - c.position AS lag
           FROM projection_checkpoints c
          WHERE c.error_count = 0 AND ${ownerLockHeldSql('c.name')}
       ) x ORDER BY x.lag DESC LIMIT 1`,
    );
    const row = rows[0];
    return row ? { projection: row.name, events: Number(row.lag), position: Number(row.position) } : null;
  };
  return async () => {
    if (options.maxLag === 0) return;
    const first = await worstLag();
    if (!first || first.events <= options.maxLag) return;
    options.onWait?.(first);
    const started = Date.now();
    let last = first;
    let movedAt = started;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const lag = await worstLag();
      if (!lag || lag.events <= resumeAt) break;
      if (lag.projection !== last.projection || lag.position !== last.position) movedAt = Date.now();
      else if (Date.now() - movedAt >= stallMs) {
        options.onResume?.({ waitedMs: Date.now() - started, stalled: lag });
        return;
      }
      last = lag;
    }
    options.onResume?.({ waitedMs: Date.now() - started, stalled: null });
  };
}
