/**
 * Text folding for search, shared by the document side (what the index stores) and the query side
 * (what a user typed), so both always fold the same way: lower case, accents and ligatures folded
 * (é→e, ß→ss, æ→ae), punctuation as a word break. Street-type abbreviations are handled by adding
 * the other forms of a word to the document (St → street, saint); the query is left as typed, so
 * "12 Main St", "12 Main Street" and "12 Main Str" (a prefix) all meet "12 Main Street".
 */

import type { AddressDoc } from '../address-view/projection';

// NFKD splits accented letters into letter + combining mark; these letters have no such split.
const SPECIAL_FOLDS: Record<string, string> = {
  ß: 'ss',
  ẞ: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};
const SPECIAL_RE = new RegExp(`[${Object.keys(SPECIAL_FOLDS).join('')}]`, 'g');

export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(SPECIAL_RE, (c) => SPECIAL_FOLDS[c] ?? c);
}

const WORD_BREAK = /[^\p{L}\p{N}]+/u;

/** The folded words of a text, in order. */
export function tokenize(text: string | null | undefined): string[] {
  if (!text) return [];
  return foldText(text)
    .split(WORD_BREAK)
    .filter((w) => w.length > 0);
}

/**
 * Abbreviation ↔ full form. Each abbreviation lists its full forms and each full form its
 * abbreviations (not the other full forms: "street" must not pull in "saint").
 */
export const ABBREVIATIONS: ReadonlyArray<readonly [abbreviation: string, full: string]> = [
  // USPS Publication 28 street suffixes that occur in practice, plus the directionals.
  ['st', 'street'],
  ['st', 'saint'],
  ['ste', 'sainte'],
  ['ave', 'avenue'],
  ['av', 'avenue'],
  ['rd', 'road'],
  ['dr', 'drive'],
  ['ln', 'lane'],
  ['ct', 'court'],
  ['pl', 'place'],
  ['blvd', 'boulevard'],
  ['bd', 'boulevard'],
  ['hwy', 'highway'],
  ['pkwy', 'parkway'],
  ['cir', 'circle'],
  ['ter', 'terrace'],
  ['terr', 'terrace'],
  ['sq', 'square'],
  ['trl', 'trail'],
  ['pt', 'point'],
  ['ext', 'extension'],
  ['hts', 'heights'],
  ['xing', 'crossing'],
  ['aly', 'alley'],
  ['cres', 'crescent'],
  ['rte', 'route'],
  ['wy', 'way'],
  ['mt', 'mount'],
  ['mtn', 'mountain'],
  ['ft', 'fort'],
  ['ctr', 'center'],
  ['jct', 'junction'],
  ['tpke', 'turnpike'],
  ['expy', 'expressway'],
  ['fwy', 'freeway'],
  ['rdg', 'ridge'],
  ['hl', 'hill'],
  ['vlg', 'village'],
  ['n', 'north'],
  ['s', 'south'],
  ['e', 'east'],
  ['w', 'west'],
  ['ne', 'northeast'],
  ['nw', 'northwest'],
  ['se', 'southeast'],
  ['sw', 'southwest'],
  // Ordinal street names ("3rd St" / "Third Street").
  ['1st', 'first'],
  ['2nd', 'second'],
  ['3rd', 'third'],
  ['4th', 'fourth'],
  ['5th', 'fifth'],
  ['6th', 'sixth'],
  ['7th', 'seventh'],
  ['8th', 'eighth'],
  ['9th', 'ninth'],
  ['10th', 'tenth'],
  ['11th', 'eleventh'],
  ['12th', 'twelfth'],
  ['13th', 'thirteenth'],
  ['14th', 'fourteenth'],
  ['15th', 'fifteenth'],
  ['16th', 'sixteenth'],
  ['17th', 'seventeenth'],
  ['18th', 'eighteenth'],
  ['19th', 'nineteenth'],
  ['20th', 'twentieth'],
  // German and French forms (ß is already folded to ss).
  ['str', 'strasse'],
  ['pl', 'platz'],
  ['ch', 'chemin'],
];

const ALTERNATES: ReadonlyMap<string, readonly string[]> = (() => {
  const map = new Map<string, string[]>();
  const add = (from: string, to: string) => {
    const list = map.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    map.set(from, list);
  };
  for (const [abbreviation, full] of ABBREVIATIONS) {
    add(abbreviation, full);
    add(full, abbreviation);
  }
  return map;
})();

/** Other spellings of one folded word: abbreviations, full forms, German compound street names. */
export function alternatesOf(word: string): string[] {
  const out = [...(ALTERNATES.get(word) ?? [])];
  // German compounds: "Hauptstraße" is also written "Hauptstr."
  if (word.length > 7 && word.endsWith('strasse')) out.push(`${word.slice(0, -7)}str`);
  else if (word.length > 3 && word.endsWith('str') && !ALTERNATES.has(word)) out.push(`${word.slice(0, -3)}strasse`);
  return out;
}

/** Postal codes are also stored without their inner space or dash ("K1A 0B1" → "k1a0b1"). */
export function postalCodeWords(postalCode: string): string[] {
  const words = tokenize(postalCode);
  if (words.length > 1) words.push(words.join(''));
  return words;
}

/** A postal code as compared by the prefix filter: upper case, no spaces. */
export function postalCodeKey(postalCode: string): string {
  return postalCode.replace(/\s+/g, '').toUpperCase();
}

/**
 * The searchable words of a document, folded by the same code that folds queries, in three tiers
 * both backends rank alike (Postgres: tsvector weights A, B, C; Meilisearch: searchableAttributes
 * in this order): the address lines as written; the other fields; the other spellings of those
 * words (weight C), so "St" finds "Street" but ranks below a document that says "St".
 */
export function documentWords(doc: AddressDoc): { primary: string[]; secondary: string[]; alternates: string[] } {
  const primary = [...new Set([...tokenize(doc.line1), ...tokenize(doc.line2)])];
  const secondary = [
    ...new Set([
      ...tokenize(doc.city),
      ...tokenize(doc.region),
      ...tokenize(doc.country),
      ...tokenize(doc.owner),
      ...postalCodeWords(doc.postalCode),
    ]),
  ];
  const written = new Set([...primary, ...secondary]);
  const alternates = [...new Set([...written].flatMap(alternatesOf))].filter((w) => !written.has(w));
  return { primary, secondary, alternates };
}

/**
 * Every proper prefix of these words that is not itself one of them ("120" → "1", "12"). Postgres
 * matches each query word as a prefix (`'w':*`); Meilisearch's own prefix search covers the last
 * word only, so the Meilisearch index stores these instead ("12 Main Street" must find "120 Main
 * Street", and rank it second).
 */
export function wordPrefixes(words: readonly string[]): string[] {
  const whole = new Set(words);
  const out = new Set<string>();
  for (const word of words) {
    for (let n = 1; n < word.length; n++) {
      const prefix = word.slice(0, n);
      if (!whole.has(prefix)) out.add(prefix);
    }
  }
  return [...out];
}

/**
 * At most ten words per query: Meilisearch reads only the first ten words of a query (its
 * documented limit), so both backends stop there and answer the same question.
 */
export const MAX_QUERY_WORDS = 10;
const MAX_WORD_LENGTH = 64;

/** The words of a query as the backends match them: folded, de-duplicated, bounded. */
export function queryWords(q: string | null | undefined): string[] {
  const out: string[] = [];
  for (const w of tokenize(q)) {
    const word = w.slice(0, MAX_WORD_LENGTH);
    if (!out.includes(word)) out.push(word);
    if (out.length >= MAX_QUERY_WORDS) break;
  }
  return out;
}

/** pg_trgm's trigram set of one word (two spaces before, one after), for highlighting typos. */
export function trigrams(word: string): Set<string> {
  const padded = `  ${word} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return out;
}

export function trigramSimilarity(a: string, b: string): number {
  const ta = trigrams(a);
  const tb = trigrams(b);
  let shared = 0;
  for (const t of ta) if (tb.has(t)) shared++;
  const union = ta.size + tb.size - shared;
  return union === 0 ? 0 : shared / union;
}

/** Minimum length of a query word before a typo is tolerated (short words are matched exactly). */
export const FUZZY_MIN_LENGTH = 4;
/** Trigram similarity at which a word counts as a typo of another (used for highlighting). */
export const FUZZY_SIMILARITY = 0.45;

/** Whether a folded document word matches a query word: as a prefix, an alternate form, or a typo. */
export function wordMatches(docWord: string, queryWord: string): boolean {
  if (docWord.startsWith(queryWord)) return true;
  if (alternatesOf(docWord).some((alt) => alt.startsWith(queryWord))) return true;
  return queryWord.length >= FUZZY_MIN_LENGTH && trigramSimilarity(docWord, queryWord) >= FUZZY_SIMILARITY;
}
