import { describe, expect, it } from 'vitest';
import {
  cleanSearchParams,
  historyModeForTyping,
  rawSearchParams,
  readSearchParams,
  resolveSearchQuery,
  searchApiUrl,
  searchHref,
  searchQuerySchema,
} from './search-query';

describe('the search-query schema (page and API)', () => {
  it('reads a full query, upper-casing the country and coercing numbers', () => {
    expect(
      searchQuerySchema.parse({
        q: ' 12 main st ',
        country: 'us',
        region: 'ME',
        city: 'Portland',
        postalCode: '041',
        status: 'active',
        sort: 'updated',
        page: '3',
        perPage: '50',
      }),
    ).toEqual({
      q: '12 main st',
      country: 'US',
      region: 'ME',
      city: 'Portland',
      postalCode: '041',
      status: 'active',
      sort: 'updated',
      page: 3,
      perPage: 50,
    });
  });

  it('treats blank parameters, as a GET form sends them, as absent', () => {
    expect(searchQuerySchema.parse({ q: '', country: ' ', status: '', sort: '', page: '', city: 'Bath' })).toEqual({
      city: 'Bath',
    });
  });

  it('reads a country as people write it: alpha-2, alpha-3 or its English name', () => {
    for (const country of ['us', 'USA', 'United States', ' united states of america ']) {
      expect(searchQuerySchema.parse({ country }).country).toBe('US');
    }
    expect(searchQuerySchema.parse({ country: 'deu' }).country).toBe('DE');
  });

  it('refuses what the API documents as validation_failed, naming each parameter', () => {
    const result = searchQuerySchema.safeParse({
      country: 'Atlantis',
      sort: 'random',
      page: '0',
      perPage: '1000',
      status: 'gone',
      q: 'a\u0000b',
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(
      ['country', 'page', 'perPage', 'q', 'sort', 'status'].sort(),
    );
  });
});

describe('cleanSearchParams (the page: drop what is bad, keep the rest)', () => {
  it('keeps the good parameters of a partly bad link', () => {
    expect(cleanSearchParams({ q: 'main', page: '0', sort: 'random', city: 'Bath', unknown: 'x' })).toEqual({
      q: 'main',
      city: 'Bath',
    });
  });

  it('gives an empty search for a link with nothing usable', () => {
    expect(cleanSearchParams({ page: '-1', perPage: 'x', status: 'gone' })).toEqual({});
  });
});

describe('readSearchParams (and which filters the page searched without)', () => {
  it('reports an unknown country and a bad status with the schema’s reason, and searches with the rest', () => {
    const { params, refused } = readSearchParams({ q: 'main', country: 'Narnia', status: 'gone', city: 'Bath' });
    expect(params).toEqual({ q: 'main', city: 'Bath' });
    expect(refused).toEqual([
      {
        field: 'country',
        value: 'Narnia',
        message: 'must be a country: an ISO 3166-1 code (US, USA) or its English name (United States)',
      },
      { field: 'status', value: 'gone', message: expect.any(String) },
    ]);
  });

  it('reports nothing for a good link, and not a bad page, sort or size (they narrow nothing)', () => {
    expect(readSearchParams({ country: 'usa', city: 'Bath' })).toEqual({
      params: { country: 'US', city: 'Bath' },
      refused: [],
    });
    expect(readSearchParams({ page: '0', sort: 'random', perPage: 'x' }).refused).toEqual([]);
  });
});

describe('rawSearchParams', () => {
  it('takes the first value of a repeated parameter and ignores unknown ones', () => {
    expect(rawSearchParams(new URLSearchParams('q=a&q=b&x=1&city=Bath'))).toEqual({ q: 'a', city: 'Bath' });
    expect(rawSearchParams({ q: ['a', 'b'], sort: 'updated', other: 'y' })).toEqual({ q: 'a', sort: 'updated' });
  });
});

describe('resolveSearchQuery', () => {
  it('sorts by best match when there is text, else by last update; page 1 of 20', () => {
    expect(resolveSearchQuery({ q: 'main' })).toMatchObject({ sort: 'relevance', page: 1, perPage: 20 });
    expect(resolveSearchQuery({})).toMatchObject({ sort: 'updated', page: 1, perPage: 20 });
    expect(resolveSearchQuery({ q: 'main', sort: 'updated', page: 4, perPage: 5 })).toMatchObject({
      sort: 'updated',
      page: 4,
      perPage: 5,
    });
  });
});

describe('links', () => {
  it('changes one parameter, resets the page, and leaves out page 1 and empty values', () => {
    const params = { q: 'main st', city: 'Bath', page: 3 };
    expect(searchHref(params, { status: 'archived' })).toBe('/addresses?q=main+st&city=Bath&status=archived');
    expect(searchHref(params, { page: 4 })).toBe('/addresses?q=main+st&city=Bath&page=4');
    expect(searchHref(params, { page: 1, city: undefined })).toBe('/addresses?q=main+st');
    expect(searchHref({})).toBe('/addresses');
  });

  it('names every resolved default in the API URL, in one order whatever the input order', () => {
    expect(searchApiUrl(resolveSearchQuery({ city: 'Bath', q: 'main' }))).toBe(
      '/api/addresses?q=main&city=Bath&sort=relevance&perPage=20',
    );
    expect(searchApiUrl(resolveSearchQuery({ q: 'main', city: 'Bath' }))).toBe(
      searchApiUrl(resolveSearchQuery({ city: 'Bath', q: 'main' })),
    );
  });
});

describe('historyModeForTyping', () => {
  it('rewrites the entry while a word grows or shrinks, and pushes a new search', () => {
    expect(historyModeForTyping({}, { q: 'm' })).toBe('push');
    expect(historyModeForTyping({ q: 'm' }, { q: 'mi' })).toBe('replace');
    expect(historyModeForTyping({ q: 'mian st' }, { q: 'mian' })).toBe('replace');
    expect(historyModeForTyping({ q: 'exchange' }, { q: 'm' })).toBe('push');
    expect(historyModeForTyping({ q: 'main', city: 'Bath' }, { q: 'main', city: 'Bat' })).toBe('replace');
    expect(historyModeForTyping({ q: 'main' }, { q: 'main', city: 'B' })).toBe('push');
    expect(historyModeForTyping({ q: 'main' }, { q: 'main' })).toBe('replace');
  });
});
