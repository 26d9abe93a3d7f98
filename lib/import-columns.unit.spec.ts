import { describe, expect, it } from 'vitest';
import { ImportFileError, parseMapOptions, resolveColumns, rowToAddress } from './import-columns';

const SAMPLE_HEADER = [
  'id',
  'house_number',
  'street',
  'unit',
  'city',
  'district',
  'region',
  'region_code',
  'postal_code',
  'country',
  'lat',
  'lon',
  'source',
];

describe('resolveColumns', () => {
  it('maps the OpenStreetMap layout by default, preferring the region code to the region name', () => {
    expect(resolveColumns(SAMPLE_HEADER)).toEqual({
      key: 'id',
      houseNumber: 'house_number',
      street: 'street',
      unit: 'unit',
      city: 'city',
      region: 'region_code',
      postalCode: 'postal_code',
      country: 'country',
    });
  });

  it('recognises common header names whatever their case and punctuation', () => {
    expect(
      resolveColumns(['Address Line 1', 'Address-Line-2', 'Town', 'STATE', 'ZIP', 'Country Code', 'Owner']),
    ).toEqual({
      line1: 'Address Line 1',
      line2: 'Address-Line-2',
      city: 'Town',
      region: 'STATE',
      postalCode: 'ZIP',
      country: 'Country Code',
      owner: 'Owner',
    });
    expect(resolveColumns(['addr:housenumber', 'addr:street', 'addr:city', 'addr:postcode', 'addr:country'])).toEqual({
      houseNumber: 'addr:housenumber',
      street: 'addr:street',
      city: 'addr:city',
      postalCode: 'addr:postcode',
      country: 'addr:country',
    });
  });

  it('lets --map name a column for a field, ahead of any header it would have guessed', () => {
    const mapping = resolveColumns(['ort', 'plz', 'strasse', 'land', 'city'], {
      ort: 'city',
      plz: 'postalCode',
      strasse: 'line1',
      land: 'country',
    });
    expect(mapping).toEqual({ city: 'ort', postalCode: 'plz', line1: 'strasse', country: 'land' });
  });

  it('refuses a header it cannot import, naming what is missing', () => {
    expect(() => resolveColumns(['name', 'phone'])).toThrow(ImportFileError);
    expect(() => resolveColumns(['name', 'phone'])).toThrow(
      /no column for line 1 \(or street\), city, postal code, country/,
    );
    expect(() => resolveColumns(['street', 'city', 'zip'])).toThrow(/no column for country among/);
  });

  it('refuses --map entries for unknown fields or columns', () => {
    expect(() => resolveColumns(SAMPLE_HEADER, { city: 'town' })).toThrow(/unknown field "town"/);
    expect(() => resolveColumns(SAMPLE_HEADER, { nope: 'city' })).toThrow(/no column "nope"/);
  });
});

describe('rowToAddress', () => {
  const mapping = resolveColumns(SAMPLE_HEADER);
  const row = {
    id: 'menh-000001',
    house_number: '80',
    street: 'Third Street',
    unit: '4B',
    city: 'Auburn',
    district: '',
    region: 'Maine',
    region_code: 'ME',
    postal_code: '04210',
    country: 'US',
    lat: '44.08',
    lon: '-70.22',
    source: 'x',
  };

  it('joins house number and street, and turns a unit into line 2', () => {
    expect(rowToAddress(row, mapping)).toEqual({
      key: 'menh-000001',
      fields: {
        line1: '80 Third Street',
        line2: 'Unit 4B',
        city: 'Auburn',
        region: 'ME',
        postalCode: '04210',
        country: 'US',
      },
    });
    expect(rowToAddress({ ...row, house_number: '', unit: '' }, mapping).fields).toEqual({
      line1: 'Third Street',
      city: 'Auburn',
      region: 'ME',
      postalCode: '04210',
      country: 'US',
    });
  });

  it('keys a row without a key column by its content: same row, same key; other row, other key', () => {
    const { key: _, ...noKey } = mapping;
    const a = rowToAddress(row, noKey).key;
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rowToAddress({ ...row }, noKey).key).toBe(a);
    expect(rowToAddress({ ...row, house_number: '82' }, noKey).key).not.toBe(a);
  });
});

describe('parseMapOptions', () => {
  it('splits at the last =', () => {
    expect(parseMapOptions(['PLZ=postalCode', 'a=b=city'])).toEqual({ PLZ: 'postalCode', 'a=b': 'city' });
    expect(() => parseMapOptions(['city'])).toThrow(/expected column=field/);
    expect(() => parseMapOptions(['city='])).toThrow(/expected column=field/);
  });
});
