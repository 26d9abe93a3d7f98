import { describe, expect, it } from 'vitest';
import { fieldErrors, safeNext } from './form-state';

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

describe('fieldErrors', () => {
  it('groups messages by field as sentences, with pathless issues under _form', () => {
    expect(
      fieldErrors([
        { path: ['email'], message: 'enter an e-mail address' },
        { path: [], message: 'something is off' },
        { path: ['email'], message: 'too long.' },
      ]),
    ).toEqual({ email: ['Enter an e-mail address.', 'Too long.'], _form: ['Something is off.'] });
  });
});
