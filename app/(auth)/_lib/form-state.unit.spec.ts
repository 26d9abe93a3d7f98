import { describe, expect, it } from 'vitest';
import { safeNext } from './form-state';

describe('safeNext', () => {
  it('keeps a path on this site and turns anything that could leave it into the home page', () => {
    expect(safeNext('/addresses/new')).toBe('/addresses/new');
    expect(safeNext('/addresses?q=main%20street')).toBe('/addresses?q=main%20street');
    for (const bad of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
      'javascript:alert(1)',
      '',
      undefined,
      42,
    ]) {
      expect(safeNext(bad)).toBe('/');
    }
  });
});
