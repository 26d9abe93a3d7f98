import { describe, expect, it } from 'vitest';
import type { AddressEvent } from '@/domain/address';
import type { RecordedEvent } from '@/domain/messages';
import { buildTimeline, versionSummary } from './timeline';

const actor = { id: 'u-1', name: 'Ada', role: 'operator' as const };
let version = 0;
function recorded(event: Pick<AddressEvent, 'type' | 'data'>, recordedAt: string): RecordedEvent<AddressEvent> {
  version++;
  return {
    ...event,
    eventId: `e${version}`,
    streamId: 'address-a',
    streamVersion: version,
    position: String(version),
    schemaVersion: 1,
    recordedAt,
    metadata: { actor, commandId: `c${version}`, correlationId: `c${version}`, source: 'ui', recordedAt },
  } as RecordedEvent<AddressEvent>;
}

describe('versionSummary', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const timeline = buildTimeline([
    recorded(
      {
        type: 'AddressRegistered',
        data: { addressId: 'a', line1: '1 Main St', city: 'Auburn', postalCode: '04210', country: 'US' },
      },
      '2026-11-28T12:00:00Z',
    ),
    recorded(
      { type: 'AddressChanged', data: { addressId: 'a', changes: { postalCode: '04211' } } },
      '2026-12-01T10:00:00Z',
    ),
    recorded(
      { type: 'AddressCorrected', data: { addressId: 'a', corrects: 2, fields: { owner: 'C-1' }, reason: 'typo' } },
      '2026-12-01T11:55:00Z',
    ),
    recorded({ type: 'AddressArchived', data: { addressId: 'a', reason: 'gone' } }, '2026-12-01T11:59:30Z'),
  ]);

  it('says what each version did, by whom and how long ago', () => {
    expect(timeline.map((e) => versionSummary(e, now))).toEqual([
      'v1 · Registered 1 Main St, Auburn · Ada · 3 days ago',
      'v2 · Changed postal code 04210 → 04211 · Ada · 2 hours ago',
      'v3 · Corrected v2: owner reference not set → C-1 · Ada · 5 minutes ago',
      'v4 · Archived · Ada · 30 seconds ago',
    ]);
  });

  it('shortens long values so an option stays one line', () => {
    const long = buildTimeline([
      recorded(
        {
          type: 'AddressRegistered',
          data: { addressId: 'b', line1: 'x'.repeat(50), city: 'Y', postalCode: '1', country: 'US' },
        },
        '2026-12-01T12:00:00Z',
      ),
    ]);
    expect(versionSummary(long[0]!, now)).toContain(`${'x'.repeat(31)}…, Y`);
  });
});
