import { describe, expect, it } from 'vitest';
import { fieldErrors } from './form-state';

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
