import { describe, expect, it } from 'vitest';
import { noticeTexts, suggestion } from './search-response';

describe('what the search page says beside the hits', () => {
  it('offers "did you mean" when the index has a different query, and nothing when null, blank or the same', () => {
    expect(suggestion({ didYouMean: 'main street' }, 'mian street')).toBe('main street');
    expect(suggestion({ didYouMean: ' main st ' })).toBe('main st');
    expect(suggestion({ didYouMean: null })).toBeUndefined();
    expect(suggestion({ didYouMean: '  ' })).toBeUndefined();
    expect(suggestion({ didYouMean: 'main street' }, 'Main Street ')).toBeUndefined();
  });

  it('names each filter that no address passes, in words', () => {
    expect(
      noticeTexts({
        unmatchedFilters: [
          { field: 'region', value: 'Mainee' },
          { field: 'postalCode', value: '99999' },
        ],
      }),
    ).toEqual(['No address has the region “Mainee”.', 'No address has the postal code “99999”.']);
    expect(noticeTexts({ unmatchedFilters: [] })).toEqual([]);
  });
});
