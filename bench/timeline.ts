/**
 * `npm run bench`, timeline part: the history page's read of a 1,000-event address (every event
 * through the store's reader and upcasters, folded by buildTimeline: what loadTimeline in
 * app/addresses/_lib/address.server.ts does, which cannot be imported outside Next's server
 * bundle because of `server-only`)   vs   a raw SELECT of the stream's rows in version order.
 * p50 of LOADS_PER_RUN loads per run.
 */
import { randomUUID } from 'node:crypto';
import { buildTimeline } from '@/app/addresses/_lib/timeline';
import { type AddressEvent, addressStreamId } from '@/domain/address';
import type { RecordedEvent } from '@/domain/messages';
import { median, repeat } from './measure';
import { historyOf, toNewEvents } from './workload';
import type { Scenario } from './writes';

const EVENTS = 1_000;
const LOADS_PER_RUN = 30;

const timelineScenario: Scenario = {
  name: 'timeline',
  async run(ctx) {
    const id = randomUUID();
    const streamId = addressStreamId(id);
    const events = historyOf(id, EVENTS);
    for (let v = 0; v < events.length; v += 500) {
      await ctx.ledger.store.append(streamId, toNewEvents(events.slice(v, v + 500)), { expectedVersion: v });
    }
    const p50 = async (load: () => Promise<unknown>) => {
      await load();
      const out: number[] = [];
      for (let i = 0; i < LOADS_PER_RUN; i++) {
        const t = performance.now();
        await load();
        out.push(performance.now() - t);
      }
      return median(out);
    };
    const { ours, ...baselines } = await repeat('timeline', {
      ours: () =>
        p50(async () => {
          const read = await ctx.ledger.store.readStream(streamId, { limit: 1_000_000 });
          const timeline = buildTimeline(read as RecordedEvent<AddressEvent>[]);
          if (timeline.length !== EVENTS) throw new Error(`timeline: ${timeline.length} entries, not ${EVENTS}`);
        }),
      'raw SELECT of the stream': () =>
        p50(() => ctx.ownerPool.query('SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version', [streamId])),
    });
    return [
      {
        name: `timeline of a ${EVENTS.toLocaleString('en-US')}-event address, p50`,
        unit: 'ms',
        better: 'lower',
        ours,
        baselines,
        note: 'goal: ≤ 2× the raw SELECT',
      },
    ];
  },
};

export const timelineScenarios: Scenario[] = [timelineScenario];
