import { describe, expect, it } from 'vitest';
import { resultCount } from './labels';

describe('the search result count', () => {
  it('counts exactly below the cap and says "more than" at it', () => {
    expect(resultCount({ total: 0, totalIsCapped: false })).toBe('No addresses found');
    expect(resultCount({ total: 1, totalIsCapped: false })).toBe('1 address');
    expect(resultCount({ total: 1234, totalIsCapped: false })).toBe('1,234 addresses');
    expect(resultCount({ total: 100_000, totalIsCapped: false })).toBe('100,000 addresses');
    expect(resultCount({ total: 100_000, totalIsCapped: true })).toBe('More than 100,000 addresses');
  });
});
