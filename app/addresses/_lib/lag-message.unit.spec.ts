import { describe, expect, it } from 'vitest';
import { formatSeconds, lagMessage } from './lag-message';

describe('lagMessage', () => {
  it('says nothing when the index is up to date or the lag is unknown', () => {
    expect(lagMessage({ events: 0, seconds: 0, failing: false })).toBeNull();
    expect(lagMessage(null)).toBeNull();
  });

  it('says how far behind a catching-up index is', () => {
    expect(lagMessage({ events: 1, seconds: 0.2, failing: false })).toBe(
      'The search index is catching up: results may be 1 event behind. An address’s own page is always up to date.',
    );
    expect(lagMessage({ events: 1200, seconds: 150, failing: false })).toBe(
      'The search index is catching up: results may be 1,200 events behind, about 3 min. An address’s own page is always up to date.',
    );
  });

  it('says one thing when the index is failing, whether or not events are waiting', () => {
    const failing = lagMessage({ events: 3, seconds: 40, failing: true })!;
    expect(failing).toBe(
      'The search index is failing to update, so results may be missing recent changes (3 events not in it yet). An address’s own page is always up to date.',
    );
    expect(failing).not.toMatch(/catching up/);
    expect(lagMessage({ events: 0, seconds: 0, failing: true })).toBe(
      'The search index is failing to update, so results may be missing recent changes. An address’s own page is always up to date.',
    );
  });
});

describe('formatSeconds', () => {
  it('rounds to seconds, minutes or hours', () => {
    expect([formatSeconds(5.4), formatSeconds(89), formatSeconds(90), formatSeconds(5400)]).toEqual([
      '5 s',
      '89 s',
      '2 min',
      '2 h',
    ]);
  });
});
