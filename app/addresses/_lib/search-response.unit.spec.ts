import { describe, expect, it } from 'vitest';
import { noticeTexts, suggestion } from './search-response';

describe('optional fields of the search answer', () => {
  it('reads "did you mean" as a string or as {q}, and nothing when absent or blank', () => {
    expect(suggestion({ didYouMean: 'main street' })).toBe('main street');
    expect(suggestion({ didYouMean: { q: ' main st ' } })).toBe('main st');
    expect(suggestion({})).toBeUndefined();
    expect(suggestion({ didYouMean: null })).toBeUndefined();
    expect(suggestion({ didYouMean: '  ' })).toBeUndefined();
  });

  it('reads notices as sentences or {message}, skipping empty ones', () => {
    expect(
      noticeTexts({
        notices: [
          'No country is called "Atlantis"; the filter was not applied.',
          { message: 'No region "XX".', field: 'region' },
          '',
        ],
      }),
    ).toEqual(['No country is called "Atlantis"; the filter was not applied.', 'No region "XX".']);
    expect(noticeTexts({})).toEqual([]);
  });
});
