import { describe, expect, it } from 'vitest';
import { countryCode, regionForms } from './filter-forms';

describe('countryCode', () => {
  it('reads alpha-2 and alpha-3 codes in any case', () => {
    expect(countryCode('US')).toBe('US');
    expect(countryCode('us')).toBe('US');
    expect(countryCode('USA')).toBe('US');
    expect(countryCode(' deu ')).toBe('DE');
    expect(countryCode('CHE')).toBe('CH');
  });

  it('reads English names and common aliases, ignoring case, accents and punctuation', () => {
    expect(countryCode('United States')).toBe('US');
    expect(countryCode('united states of america')).toBe('US');
    expect(countryCode('Germany')).toBe('DE');
    expect(countryCode('UK')).toBe('GB');
    expect(countryCode('United Kingdom')).toBe('GB');
    expect(countryCode("Cote d'Ivoire")).toBe('CI');
    expect(countryCode('côte d’ivoire')).toBe('CI');
  });

  it('names no country for anything else', () => {
    for (const text of ['Atlantis', 'ZZ', 'XYZ', '', '  ', 'U', '12', 'United'])
      expect(countryCode(text), text).toBeNull();
  });
});

describe('regionForms', () => {
  it('adds the ISO 3166-2 code to a subdivision name, and the name to a code', () => {
    expect(regionForms('Maine', 'US')).toEqual(['Maine', 'ME']);
    expect(regionForms('maine')).toEqual(['maine', 'ME']);
    expect(regionForms('ME', 'US')).toEqual(['ME', 'Maine']);
    expect(regionForms('New Hampshire', 'US')).toEqual(['New Hampshire', 'NH']);
    expect(regionForms('US-NH')).toEqual(['US-NH', 'NH', 'New Hampshire']);
  });

  it('folds accents and punctuation when finding the subdivision', () => {
    expect(regionForms('baden wurttemberg', 'DE')).toEqual(['baden wurttemberg', 'BW', 'Baden-Württemberg']);
    expect(regionForms('Bayern', 'DE')).toEqual(['Bayern', 'BY']);
  });

  it('keeps to the country when one is given, and reads every country without one', () => {
    // ME is Maine in the US and Messina in Italy (IT-ME).
    expect(regionForms('ME', 'IT')).toEqual(['ME', 'Messina']);
    expect(regionForms('ME')).toEqual(expect.arrayContaining(['ME', 'Maine', 'Messina']));
    expect(regionForms('Maine', 'FR')).toEqual(['Maine']);
  });

  it('keeps a region no list knows as typed', () => {
    expect(regionForms('Lower Bogsworth')).toEqual(['Lower Bogsworth']);
    expect(regionForms('  Somewhere  ', 'US')).toEqual(['Somewhere']);
  });
});
