import { describe, expect, it } from 'vitest';
import { facetCount, facetSampleNote, resultCount } from './labels';

describe('the search result count', () => {
  it('counts exactly below the cap and says "more than" at it', () => {
    expect(resultCount({ total: 0, totalIsCapped: false })).toBe('No addresses found');
    expect(resultCount({ total: 1, totalIsCapped: false })).toBe('1 address');
    expect(resultCount({ total: 1234, totalIsCapped: false })).toBe('1,234 addresses');
    expect(resultCount({ total: 1_000, totalIsCapped: false })).toBe('1,000 addresses');
    expect(resultCount({ total: 1_000, totalIsCapped: true })).toBe('More than 1,000 addresses');
  });
});

describe('a facet count', () => {
  it('is exact when every match was counted, and a lower bound over a sample', () => {
    expect(facetCount(1234, null)).toBe('1,234');
    expect(facetCount(1234, 2000)).toBe('1,234+');
    expect(facetSampleNote(null)).toBeNull();
    expect(facetSampleNote(2000)).toBe('Counted among the 2,000 best matches.');
  });
});
