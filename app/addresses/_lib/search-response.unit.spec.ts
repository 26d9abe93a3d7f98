import { describe, expect, it } from 'vitest';
import { noticeTexts, refusedFilterTexts, suggestion } from './search-response';

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

  it('says which filter of the link the search was run without, and why', () => {
    expect(
      refusedFilterTexts([
        { field: 'country', value: 'Narnia', message: 'must be a country: an ISO 3166-1 code (US, USA)' },
        { field: 'status', value: 'gone', message: 'Invalid option: expected one of "active"|"archived"' },
      ]),
    ).toEqual([
      'The country “Narnia” was left out of the search. It must be a country: an ISO 3166-1 code (US, USA).',
      'The status “gone” was left out of the search. Invalid option: expected one of "active"|"archived".',
    ]);
    expect(refusedFilterTexts([])).toEqual([]);
  });
});
