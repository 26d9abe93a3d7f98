import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alternativesFor, candidatesFor, didYouMean, editDistance, maxEdits, oneEditAway, readWord } from './spelling';

const vocabulary = (counts: Record<string, number>) =>
  Object.entries(counts).map(([word, documents]) => ({ word, documents }));

describe('oneEditAway', () => {
  it('holds the swaps of neighbours, the deletions, replacements and insertions of one letter', () => {
    const edits = new Set(oneEditAway('mian'));
    expect(edits.has('main')).toBe(true); // swap
    expect(edits.has('man')).toBe(true); // deletion
    expect(edits.has('mean')).toBe(true); // replacement
    expect(edits.has('miran')).toBe(true); // insertion
    expect(edits.has('mian')).toBe(false);
    expect(new Set(oneEditAway('sreet')).has('street')).toBe(true);
    expect(new Set(oneEditAway('stret')).has('street')).toBe(true);
  });

  it('is exactly the set of strings at distance one over its alphabet', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-e]{1,5}$/), (word) => {
        expect(oneEditAway(word).filter((edit) => editDistance(word, edit) !== 1)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('uses the letters of the word itself, so folded words of other scripts get edits too', () => {
    expect(oneEditAway('μιαν')).toContain('μαιν');
    // A letter of the word replaced by another of its letters, and one inserted.
    expect(oneEditAway('σπιτι')).toEqual(expect.arrayContaining(['σπιπι', 'σπιττι']));
  });
});

describe('editDistance', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('mian', 'main')).toBe(1);
    expect(editDistance('sreet', 'street')).toBe(1);
    expect(editDistance('chesnut', 'chestnut')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('is symmetric', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
      }),
    );
  });
});

describe('maxEdits', () => {
  it('allows none below four letters or in numbers, one from four, two from nine', () => {
    expect(maxEdits('st')).toBe(0);
    expect(maxEdits('elm')).toBe(0);
    expect(maxEdits('04101')).toBe(0);
    expect(maxEdits('mian')).toBe(1);
    expect(maxEdits('chestnutt')).toBe(2);
  });
});

describe('candidatesFor', () => {
  it('orders by fewest edits, then by how many documents hold the word', () => {
    const found = candidatesFor('mian', vocabulary({ main: 900, mina: 3, man: 40, maine: 10, mountain: 5 }));
    expect(found.map((c) => c.word)).toEqual(['main', 'man', 'mina']);
    expect(found[0]).toEqual({ word: 'main', documents: 900, edits: 1 });
  });

  it('allows two edits only in long words, and never in short ones or numbers', () => {
    expect(candidatesFor('chessnutt', vocabulary({ chestnut: 4 })).map((c) => c.word)).toEqual(['chestnut']);
    expect(candidatesFor('chesnutt', vocabulary({ chestnut: 4 }))).toEqual([]);
    expect(candidatesFor('bth', vocabulary({ bath: 4 }))).toEqual([]);
    expect(candidatesFor('04102', vocabulary({ '04101': 4 }))).toEqual([]);
  });

  it('leaves out the word itself and words no document holds any more', () => {
    expect(candidatesFor('main', vocabulary({ main: 4, mains: 0 }))).toEqual([]);
  });
});

describe('didYouMean', () => {
  it('replaces the unknown words and keeps the rest as folded', () => {
    expect(didYouMean(['12', 'mian', 'street'], new Map([['mian', 'main']]))).toBe('12 main street');
    expect(
      didYouMean(
        ['mian', 'sreet'],
        new Map([
          ['mian', 'main'],
          ['sreet', 'street'],
        ]),
      ),
    ).toBe('main street');
  });

  it('is null when no word would change', () => {
    expect(didYouMean(['main', 'street'], new Map())).toBeNull();
    expect(didYouMean(['main'], new Map([['other', 'x']]))).toBeNull();
  });
});

const found = (counts: Record<string, number>, similar: Record<string, number> = {}) => [
  ...Object.entries(counts).map(([word, documents]) => ({ word, documents, similarity: 0 })),
  ...Object.entries(similar).map(([word, similarity]) => ({ word, documents: 5, similarity })),
];

describe('alternativesFor', () => {
  it('scores the most common word one edit away highest, the others far below, trigram look-alikes by similarity', () => {
    const alternatives = alternativesFor('mian', found({ main: 900, mina: 3 }, { miami: 0.6 }));
    expect(alternatives.map((a) => [a.word, a.score])).toEqual([
      ['main', 0.45],
      // 0.4 × 0.6: trigram look-alikes score as the trigram match always did.
      ['miami', expect.closeTo(0.24, 5)],
      ['mina', 0.2],
    ]);
  });
});

describe('readWord', () => {
  it('corrects a word that occurs nowhere, and ranks the correction above a prefix match', () => {
    const read = readWord('mian', { documents: 0, prefixed: 0, found: found({ main: 900, mina: 3 }) });
    expect(read.correction).toBe('main');
    expect(read.alternatives[0]).toMatchObject({ word: 'main', score: 0.65 });
  });

  it('corrects a word that only begins rare words when a common word is one edit away', () => {
    // "stret" begins Stretch (4 addresses) and is one letter short of street (60,000).
    const read = readWord('stret', { documents: 0, prefixed: 4, found: found({ street: 60_000 }) });
    expect(read.correction).toBe('street');
    expect(read.alternatives[0]?.score).toBeGreaterThan(0.6);
  });

  it('takes a word typed halfway as typed when what it begins is common', () => {
    const read = readWord('stree', { documents: 0, prefixed: 60_000, found: found({ stree: 0, three: 50 }) });
    expect(read.correction).toBeNull();
    expect(read.alternatives.every((a) => a.score < 0.5)).toBe(true);
  });

  it('takes a whole word of the index as typed: no correction, no edits, its trigram look-alikes below it', () => {
    const read = readWord('tree', { documents: 900, prefixed: 20, found: found({ three: 50 }, { pinetree: 0.6 }) });
    expect(read.correction).toBeNull();
    expect(read.alternatives.map((a) => a.word)).toEqual(['pinetree']);
  });

  it('offers a trigram look-alike when no word is near enough by edits', () => {
    const read = readWord('jelerson', { documents: 0, prefixed: 0, found: found({}, { jefferson: 0.55 }) });
    expect(read.correction).toBe('jefferson');
    expect(read.alternatives[0]?.score).toBeCloseTo(0.22);
  });

  it('has nothing to offer for a word nothing is near', () => {
    expect(readWord('zzzz', { documents: 0, prefixed: 0, found: [] })).toEqual({ alternatives: [], correction: null });
  });
});
