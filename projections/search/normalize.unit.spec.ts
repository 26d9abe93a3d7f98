import { describe, expect, it } from 'vitest';
import type { AddressDoc } from '../address-view/projection';
import {
  alternatesOf,
  documentWords,
  foldText,
  postalCodeWords,
  queryWords,
  tokenize,
  wordMatches,
  wordPrefixes,
} from './normalize';
import { highlight } from './search-index';

describe('folding', () => {
  it('folds case, accents, ß and ligatures the same way on both sides', () => {
    expect(foldText('Straße Über Æble Øster Crème')).toBe('strasse uber aeble oster creme');
    expect(tokenize("12 O'Brien-Rd., Apt #4")).toEqual(['12', 'o', 'brien', 'rd', 'apt', '4']);
  });

  it('stores both the abbreviation and the full street type, so either spelling finds the other', () => {
    expect(alternatesOf('st')).toEqual(['street', 'saint']);
    expect(alternatesOf('avenue')).toEqual(['ave', 'av']);
    expect(alternatesOf('3rd')).toEqual(['third']);
    expect(alternatesOf('hauptstrasse')).toContain('hauptstr');
    expect(alternatesOf('hauptstr')).toContain('hauptstrasse');
  });

  it('keeps a postal code with inner spaces findable as one word', () => {
    expect(postalCodeWords('K1A 0B1')).toEqual(['k1a', '0b1', 'k1a0b1']);
  });

  it('bounds and de-duplicates query words', () => {
    expect(queryWords('main main MAIN st')).toEqual(['main', 'st']);
    expect(queryWords(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))).toEqual(
      Array.from({ length: 10 }, (_, i) => `w${i}`),
    );
  });

  it('matches a word by prefix, by alternate spelling or by a typo, but not a short typo', () => {
    expect(wordMatches('street', 'str')).toBe(true);
    expect(wordMatches('st', 'street')).toBe(true);
    expect(wordMatches('chestnut', 'chesnut')).toBe(true);
    expect(wordMatches('main', 'mian')).toBe(false);
  });
});

const doc: AddressDoc = {
  id: 'a1',
  streamId: 'address-a1',
  version: 3,
  status: 'active',
  line1: '12 Chestnut Street',
  line2: null,
  city: 'Zürich',
  region: null,
  postalCode: 'K1A 0B1',
  country: 'CA',
  owner: null,
  archivedReason: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-02T00:00:00.000Z',
  lastEventType: 'AddressChanged',
  lastPosition: '9',
  lastActor: { id: 'u', name: 'U', role: 'operator' },
};

describe('the searchable words of a document (both backends index these)', () => {
  it('keep the words as written apart from their alternate spellings, which rank lower', () => {
    expect(documentWords({ ...doc, line1: '12 Main St', line2: 'Apt 4', owner: 'Jo' })).toEqual({
      primary: ['12', 'main', 'st', 'apt', '4'],
      secondary: ['zurich', 'ca', 'jo', 'k1a', '0b1', 'k1a0b1'],
      alternates: ['street', 'saint'],
    });
  });

  it('lists the prefixes of every word that are not words themselves', () => {
    expect(wordPrefixes(['120', 'main', 'ma'])).toEqual(['1', '12', 'm', 'mai']);
    expect(wordPrefixes(['a'])).toEqual([]);
  });
});

describe('highlighting', () => {
  it('marks the matched words of each field by their place in the stored text', () => {
    expect(highlight(doc, 'chesnut st zurich')).toEqual({
      line1: [
        { start: 3, length: 8 },
        { start: 12, length: 6 },
      ],
      city: [{ start: 0, length: 6 }],
    });
    expect(highlight(doc, '')).toEqual({});
  });
});
