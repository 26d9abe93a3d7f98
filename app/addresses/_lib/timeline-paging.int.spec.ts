import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { loadTimeline } from './address.server';
import { filterTimeline, TIMELINE_PAGE_SIZE, timelinePage, timelineQuery } from './timeline';

vi.mock('server-only', () => ({}));

/* An address with 10,000 events: the history page's data opens with 200 entries and pages back by version. */

let t: TestDatabase;
const id = randomUUID();
const EVENTS = 10_000;

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  // Raw rows: the owner's right (the app appends through append_events). In chunks: one long
  // transaction would hold back the gap-safe readers of every other test file on the server.
  for (let from = 1; from <= EVENTS; from += 1_000) {
    await t.ownerPool.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
     SELECT $1, v, gen_random_uuid(),
            CASE WHEN v = 1 THEN 'AddressRegistered' WHEN v % 10 = 0 THEN 'AddressCorrected' ELSE 'AddressChanged' END,
            CASE WHEN v = 1 THEN 2 ELSE 1 END,
            CASE WHEN v = 1 THEN jsonb_build_object('addressId', $2::text, 'line1', '1 Long Road', 'city', 'Auburn',
                                                    'postalCode', '04210', 'country', 'US')
                 WHEN v % 10 = 0 THEN jsonb_build_object('addressId', $2::text, 'corrects', v - 1,
                                                         'fields', jsonb_build_object('owner', 'C-' || v), 'reason', 'fix')
                 ELSE jsonb_build_object('addressId', $2::text, 'changes', jsonb_build_object('owner', 'O-' || v)) END,
            jsonb_build_object('actor', jsonb_build_object('id', CASE WHEN v % 2 = 0 THEN 'u-ada' ELSE 'u-bob' END,
                                                           'name', CASE WHEN v % 2 = 0 THEN 'Ada' ELSE 'Bob' END,
                                                           'role', 'operator'),
                               'commandId', gen_random_uuid(), 'correlationId', 'long', 'source', 'api')
     FROM generate_series($3::int, $4::int) AS v`,
      [`address-${id}`, id, from, Math.min(EVENTS, from + 999)],
    );
  }
});
afterAll(async () => t?.drop());

describe('a 10,000-event timeline', () => {
  it('opens with the newest 200 entries and pages backwards by version to the first', async () => {
    const record = (await loadTimeline(id))!;
    expect(record.timeline).toHaveLength(EVENTS);
    expect(record.timeline.at(-1)!.fieldsAfter).toMatchObject({ owner: 'C-10000' });
    const first = timelinePage(record.timeline, undefined);
    expect(first.entries).toHaveLength(TIMELINE_PAGE_SIZE);
    expect(first.entries[0]!.version).toBe(EVENTS);
    expect(first.olderBefore).toBe(EVENTS - TIMELINE_PAGE_SIZE + 1);
    const seen = new Set<number>();
    let before: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = timelinePage(record.timeline, before);
      expect(page.entries.length).toBeLessThanOrEqual(TIMELINE_PAGE_SIZE);
      for (const e of page.entries) seen.add(e.version);
      if (page.olderBefore === null) break;
      before = page.olderBefore;
    }
    expect(seen.size).toBe(EVENTS);
  });

  it('filters by event type and by actor', async () => {
    const { timeline } = (await loadTimeline(id))!;
    const corrected = filterTimeline(timeline, timelineQuery.parse({ type: 'AddressCorrected' }));
    expect(corrected).toHaveLength(EVENTS / 10);
    expect(corrected.every((e) => e.type === 'AddressCorrected' && e.diffs[0]?.field === 'owner')).toBe(true);
    const byAda = filterTimeline(timeline, timelineQuery.parse({ actor: 'ada' }));
    expect(byAda).toHaveLength(EVENTS / 2);
    const both = timelinePage(
      filterTimeline(timeline, timelineQuery.parse({ type: 'AddressChanged', actor: 'bob' })),
      undefined,
    );
    expect(both.entries.every((e) => e.type === 'AddressChanged' && e.actor.name === 'Bob')).toBe(true);
    expect(both.entries).toHaveLength(TIMELINE_PAGE_SIZE);
  });
});
