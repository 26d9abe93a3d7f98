import { lockHeldSql } from '@/lib/advisory-locks';
import type { Queryable } from './pg';
import { ownerLockName } from './runner';

export interface PacerOptions {
  /** Events a running projection may be behind before the writer waits for it. */
  maxLag: number;
  /** Between two looks while waiting. */
  pollMs?: number;
  /** Called once per wait, with the lag that started it. */
  onWait?: (lag: { projection: string; events: number }) => void;
  /** Called when a wait ends, with how long it took. */
  onResume?: (waitedMs: number) => void;
}

/**
 * A bulk writer's pace (the import): before each batch, waits while a running projection is more
 * than `maxLag` events behind the head, until it is within half of that. A projection is running
 * while a worker holds its owner lock (projections/runner.ts); one that is not running is not
 * waited for, so an import with the projector stopped goes at full speed and the projector
 * catches up when it starts. Without this, an import that outpaces the projector on a shared
 * machine leaves search behind by the difference of their rates times the import's length: the
 * Maine/New Hampshire file ended 7 s behind, a file a hundred times larger would end minutes behind.
 * The lag is counted in positions (a rolled-back append leaves a gap): an estimate that errs
 * towards waiting a little longer.
 */
export function projectionPacer(q: Queryable, options: PacerOptions): () => Promise<void> {
  const pollMs = options.pollMs ?? 200;
  const worstLag = async () => {
    const { rows } = await q.query<{ name: string; lag: string }>(
      `SELECT x.name, x.lag::text AS lag FROM (
         SELECT c.name, (SELECT coalesce(max(e.position), 0) FROM events e) - c.position AS lag
           FROM projection_checkpoints c
          WHERE ${lockHeldSql('hashtextextended($1 || c.name, 0)')}
       ) x ORDER BY x.lag DESC LIMIT 1`,
      [ownerLockName('')],
    );
    return rows[0] ? { projection: rows[0].name, events: Number(rows[0].lag) } : null;
  };
  return async () => {
    if (options.maxLag <= 0) return;
    const first = await worstLag();
    if (!first || first.events <= options.maxLag) return;
    options.onWait?.(first);
    const started = Date.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const lag = await worstLag();
      if (!lag || lag.events <= options.maxLag / 2) break;
    }
    options.onResume?.(Date.now() - started);
  };
}
