import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AddressFieldChanges, AddressFieldsInput } from '@/domain/address';
import {
  addressChangesSchema,
  addressFieldsSchema,
  countrySchema,
  formatZodIssues,
  optionalReasonSchema,
  reasonSchema,
  validateChangedPostalCode,
  validatePostalCodeFor,
} from './address';

const us = { line1: '12 Main Street', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' };

function issuesOf(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  expect(result.success, 'expected the input to be refused').toBe(false);
  return formatZodIssues((result as { error: z.ZodError }).error);
}

describe('addressFieldsSchema', () => {
  it('accepts a complete address and returns it unchanged', () => {
    expect(addressFieldsSchema.parse(us)).toEqual(us);
  });

  it('produces exactly what RegisterAddress takes', () => {
    const fields: AddressFieldsInput = addressFieldsSchema.parse(us);
    expect(fields.country).toBe('US');
  });

  it('trims every text field', () => {
    expect(addressFieldsSchema.parse({ ...us, line1: '  12 Main Street ', city: '\tSpringfield\n' })).toMatchObject({
      line1: '12 Main Street',
      city: 'Springfield',
    });
  });

  it('normalises text to Unicode NFC', () => {
    const parsed = addressFieldsSchema.parse({ ...us, city: 'Cafe\u0301 Town', country: 'FR', postalCode: '75001' });
    expect(parsed.city).toBe('Caf\u00e9 Town');
    expect(parsed.city).toHaveLength(9);
  });

  it('refuses control characters inside a field', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, line1: '12 Main\u0000Street' })).toEqual([
      {
        path: 'line1',
        message: 'address line 1 must not contain control characters, line breaks or invisible characters',
      },
    ]);
    issuesOf(addressFieldsSchema, { ...us, city: 'Spring\nfield' });
    issuesOf(addressFieldsSchema, { ...us, city: 'Spring\u0085field' });
  });

  // Each of these once went in unnoticed and made a look-alike of an existing address.
  const INVISIBLE = {
    'zero-width space': '\u200B',
    'ZWNJ in Latin text': '\u200C',
    'ZWJ in Latin text': '\u200D',
    'left-to-right mark': '\u200E',
    'right-to-left mark': '\u200F',
    'Arabic letter mark': '\u061C',
    'soft hyphen': '\u00AD',
    'word joiner': '\u2060',
    'invisible separator': '\u2063',
    'Hangul filler': '\u3164',
    'Hangul choseong filler': '\u115F',
    'halfwidth Hangul filler': '\uFFA0',
    'combining grapheme joiner': '\u034F',
    'Mongolian vowel separator': '\u180E',
    'blank Braille pattern': '\u2800',
    'tag letter A': '\u{E0041}',
    'cancel tag': '\u{E007F}',
    'interlinear annotation anchor': '\uFFF9',
    'interlinear annotation terminator': '\uFFFB',
    BOM: '\uFEFF',
    'lone high surrogate': '\uD800',
    'lone low surrogate': '\uDC00',
    noncharacter: '\uFFFF',
  };
  it.each(Object.entries(INVISIBLE))('refuses a %s in every text field and the reason', (_, ch) => {
    for (const field of ['line1', 'line2', 'city', 'region', 'owner'] as const) {
      expect(issuesOf(addressFieldsSchema, { ...us, [field]: `Main${ch}Street` })[0]?.path).toBe(field);
    }
    expect(issuesOf(addressFieldsSchema, { ...us, postalCode: `627${ch}01` })[0]?.path).toBe('postalCode');
    expect(issuesOf(addressChangesSchema, { city: `Spring${ch}field` })[0]?.path).toBe('city');
    expect(issuesOf(reasonSchema, `mo${ch}ved`)[0]?.message).toMatch(/invisible characters/);
  });

  it('keeps ZWNJ/ZWJ between letters of the scripts that spell with them, and ideographic variation sequences', () => {
    // Persian: ZWNJ between two Arabic-script letters (the usual spelling of many street names).
    expect(
      addressFieldsSchema.parse({ ...us, country: 'IR', postalCode: '1234567890', line1: 'خیابان می\u200Cخواهم' })
        .line1,
    ).toBe('خیابان می\u200Cخواهم');
    // Malayalam and Devanagari: ZWJ/ZWNJ after a virama choose the conjunct's written form.
    expect(addressFieldsSchema.parse({ ...us, city: 'കണ്\u200Dണൂർ' }).city).toBe('കണ്\u200Dണൂർ');
    expect(addressFieldsSchema.parse({ ...us, city: 'क्\u200Cष' }).city).toBe('क्\u200Cष');
    // Japanese: an ideographic variation selector after a kanji (葛󠄀飾区, Katsushika).
    expect(addressFieldsSchema.parse({ ...us, city: '葛\u{E0100}飾区' }).city).toBe('葛\u{E0100}飾区');
    // The same joiners anywhere else are refused.
    for (const bad of ['\u200Cخیابان', 'خیابان\u200C', 'Main\u200CStreet', 'خ\u200Ca', '\u{E0100}葛']) {
      expect(issuesOf(addressFieldsSchema, { ...us, line1: bad })[0]?.path).toBe('line1');
    }
  });

  it('refuses line and paragraph separators and bidi overrides', () => {
    for (const bad of ['a\u2028b', 'a\u2029b', 'a\u202Eb', 'a\u2067b']) {
      expect(issuesOf(addressFieldsSchema, { ...us, owner: bad })[0]?.path).toBe('owner');
    }
  });

  it('accepts letters from any script, including joiners used in them', () => {
    expect(addressFieldsSchema.parse({ ...us, owner: 'مهرداد\u200Cی — Zoë Ünal 山田' }).owner).toBe(
      'مهرداد\u200Cی — Zoë Ünal 山田',
    );
  });

  it('limits lengths and says what the limit is', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, line1: 'x'.repeat(201) })).toEqual([
      { path: 'line1', message: 'address line 1 must be at most 200 characters' },
    ]);
    expect(issuesOf(addressFieldsSchema, { ...us, city: 'x'.repeat(101) })[0]?.message).toMatch(/100 characters/);
    expect(issuesOf(addressFieldsSchema, { ...us, region: 'x'.repeat(101) })[0]?.path).toBe('region');
    expect(issuesOf(addressFieldsSchema, { ...us, owner: 'x'.repeat(201) })[0]?.path).toBe('owner');
    expect(addressFieldsSchema.parse({ ...us, line1: 'x'.repeat(200) }).line1).toHaveLength(200);
  });

  it('names every missing required field', () => {
    expect(issuesOf(addressFieldsSchema, {})).toEqual([
      { path: 'line1', message: 'address line 1 is required' },
      { path: 'city', message: 'city is required' },
      { path: 'postalCode', message: 'postal code is required' },
      { path: 'country', message: 'country is required' },
    ]);
  });

  it('refuses a required field that is blank after trimming', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, city: '   ' })).toEqual([
      { path: 'city', message: 'city is required' },
    ]);
  });

  it('turns blank or null optional fields into "not set"', () => {
    const parsed = addressFieldsSchema.parse({ ...us, line2: '  ', region: null, owner: '' });
    expect(parsed).toEqual({ line1: us.line1, city: us.city, postalCode: us.postalCode, country: 'US' });
    expect(Object.keys(parsed)).not.toContain('line2');
  });

  it('refuses fields it does not know, by name', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, zip: '62701' })).toEqual([
      { path: 'zip', message: 'zip is not a field we know' },
    ]);
  });

  it('refuses a body that is not an object', () => {
    expect(issuesOf(addressFieldsSchema, 'hello')).toEqual([
      { path: '', message: 'the address must be a JSON object' },
    ]);
  });

  it('refuses a number where text is expected', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, city: 42 })).toEqual([
      { path: 'city', message: 'city must be text' },
    ]);
  });
});

describe('country', () => {
  it('accepts a lower-case code and returns it in upper case', () => {
    expect(addressFieldsSchema.parse({ ...us, country: 'us' }).country).toBe('US');
    expect(countrySchema.parse(' de ')).toBe('DE');
  });

  it('refuses codes that are not ISO 3166-1 alpha-2, with an example in the message', () => {
    for (const bad of ['XX', 'USA', '840', 'U', '']) {
      expect(issuesOf(countrySchema, bad)).toEqual([
        { path: '', message: 'country must be an ISO 3166-1 alpha-2 code such as US or DE' },
      ]);
    }
  });
});

describe('postal code', () => {
  it('accepts ZIP 04210 for the US', () => {
    expect(addressFieldsSchema.parse({ ...us, postalCode: '04210' }).postalCode).toBe('04210');
    expect(validatePostalCodeFor('US', '04210')).toBeNull();
  });

  it('refuses ABC for the US on the postalCode path', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, postalCode: 'ABC' })).toEqual([
      { path: 'postalCode', message: 'postal code ABC is not valid for US' },
    ]);
    expect(validatePostalCodeFor('US', 'ABC')).toBe('postal code ABC is not valid for US');
  });

  it('checks the German format too (five digits)', () => {
    const de = { line1: 'Hauptstraße 5', city: 'Berlin', postalCode: '10115', country: 'de' };
    expect(addressFieldsSchema.parse(de).country).toBe('DE');
    expect(issuesOf(addressFieldsSchema, { ...de, postalCode: '1011' })[0]?.message).toBe(
      'postal code 1011 is not valid for DE',
    );
  });

  it('accepts any sane postal code for a country without a known format', () => {
    expect(validatePostalCodeFor('AE', 'ANY 123')).toBeNull();
    expect(
      addressFieldsSchema.parse({ line1: '1 Sheikh Zayed Rd', city: 'Dubai', postalCode: 'po-4711', country: 'AE' })
        .postalCode,
    ).toBe('PO-4711');
  });

  it('upper-cases and collapses spaces, so British codes are stored canonically', () => {
    const gb = { line1: '10 Downing Street', city: 'London', postalCode: 'sw1a   2aa', country: 'GB' };
    expect(addressFieldsSchema.parse(gb).postalCode).toBe('SW1A 2AA');
  });

  it('refuses punctuation other than spaces and hyphens, even without a known format', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, country: 'AE', postalCode: '12#4' })).toEqual([
      { path: 'postalCode', message: 'postal code may contain only letters, digits, spaces and hyphens' },
    ]);
  });

  it('limits postal codes to 20 characters', () => {
    expect(issuesOf(addressFieldsSchema, { ...us, country: 'AE', postalCode: '1'.repeat(21) })[0]?.message).toBe(
      'postal code must be at most 20 characters',
    );
  });

  it('leaves an unknown country to the country check', () => {
    expect(validatePostalCodeFor('XX', 'ABC')).toBeNull();
  });
});

describe('addressChangesSchema', () => {
  it('accepts a change of one field and leaves the others out', () => {
    expect(addressChangesSchema.parse({ city: ' Chicago ' })).toEqual({ city: 'Chicago' });
  });

  it('produces exactly what ChangeAddress takes', () => {
    const changes: AddressFieldChanges = addressChangesSchema.parse({ line2: null });
    expect(changes).toEqual({ line2: null });
  });

  it('reads a blank optional field as "clear it" (null)', () => {
    expect(addressChangesSchema.parse({ region: '  ', owner: '' })).toEqual({ region: null, owner: null });
  });

  it('refuses to clear a required field', () => {
    expect(issuesOf(addressChangesSchema, { city: null })).toEqual([
      { path: 'city', message: 'city is required and cannot be cleared' },
    ]);
    expect(issuesOf(addressChangesSchema, { postalCode: null })[0]?.message).toBe(
      'postal code is required and cannot be cleared',
    );
    expect(issuesOf(addressChangesSchema, { country: null })[0]?.message).toBe(
      'country is required and cannot be cleared',
    );
    expect(issuesOf(addressChangesSchema, { line1: '  ' })[0]?.message).toBe('address line 1 is required');
  });

  it('requires at least one field', () => {
    expect(issuesOf(addressChangesSchema, {})).toEqual([{ path: '', message: 'change at least one field' }]);
  });

  it('normalises the country and checks the postal code when both change', () => {
    expect(addressChangesSchema.parse({ country: 'de', postalCode: '10115' })).toEqual({
      country: 'DE',
      postalCode: '10115',
    });
    expect(issuesOf(addressChangesSchema, { country: 'us', postalCode: 'ABC' })).toEqual([
      { path: 'postalCode', message: 'postal code ABC is not valid for US' },
    ]);
  });

  it('leaves a lone postal code to validatePostalCodeFor with the current country', () => {
    expect(addressChangesSchema.parse({ postalCode: 'ABC' })).toEqual({ postalCode: 'ABC' });
    expect(validatePostalCodeFor('US', 'ABC')).not.toBeNull();
  });

  it('reports nested paths dotted', () => {
    const body = z.object({ changes: addressChangesSchema });
    expect(issuesOf(body, { changes: { postalCode: 'x'.repeat(30), zip: '1' } })).toEqual(
      expect.arrayContaining([
        { path: 'changes.postalCode', message: 'postal code must be at most 20 characters' },
        { path: 'changes.zip', message: 'zip is not a field we know' },
      ]),
    );
  });
});

describe('reasons', () => {
  it('requires a non-blank reason and trims it', () => {
    expect(reasonSchema.parse('  moved away ')).toBe('moved away');
    expect(issuesOf(reasonSchema, '   ')).toEqual([{ path: '', message: 'reason is required' }]);
    expect(issuesOf(reasonSchema, undefined)).toEqual([{ path: '', message: 'reason is required' }]);
  });

  it('limits a reason to 500 characters', () => {
    expect(issuesOf(reasonSchema, 'x'.repeat(501))[0]?.message).toBe('reason must be at most 500 characters');
  });

  it('refuses control characters in a reason', () => {
    expect(issuesOf(reasonSchema, 'moved\u0007')[0]?.message).toMatch(/control characters/);
  });

  it('reads a blank optional reason as no reason', () => {
    expect(optionalReasonSchema.parse('  ')).toBeUndefined();
    expect(optionalReasonSchema.parse(undefined)).toBeUndefined();
    expect(optionalReasonSchema.parse(' typo ')).toBe('typo');
  });
});

describe('validateChangedPostalCode', () => {
  const current = { country: 'US', postalCode: '04210' };

  it('checks a changed postal code against the country the address already has', () => {
    expect(validateChangedPostalCode(current, { postalCode: 'SW1A 1AA' })).toMatch(/not valid for US/);
    expect(validateChangedPostalCode(current, { postalCode: '04101' })).toBeNull();
  });

  it('checks a changed country against the postal code the address already has', () => {
    expect(validateChangedPostalCode(current, { country: 'GB' })).toMatch(/not valid for GB/);
  });

  it('leaves a change of both, or of neither, to the changes schema', () => {
    expect(validateChangedPostalCode(current, { country: 'GB', postalCode: 'SW1A 1AA' })).toBeNull();
    expect(validateChangedPostalCode(current, {})).toBeNull();
  });
});
