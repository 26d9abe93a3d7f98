/**
 * Spelling against the index's own vocabulary: which words a misspelt query word could have
 * meant, and which of them to offer as "did you mean". Pure; the adapters supply the vocabulary
 * (Postgres: the `address_search_words` table the upsert maintains; Meilisearch: the words of
 * the documents it returned).
 *
 * Why not trigrams alone: a transposition or a missing letter in a short word destroys most of
 * its trigrams ("mian" shares one of five with "main", similarity 0.2), so pg_trgm never finds
 * the street people meant. An edit of one letter against the words that actually occur does.
 */
import { FUZZY_MIN_LENGTH } from './normalize';

/** Words from this length tolerate two edits (Meilisearch's `minWordSizeForTypos.twoTypos`). */
export const TWO_EDITS_MIN_LENGTH = 9;

/** Whether a query word is matched fuzzily at all: four letters or more, and not a number. */
export function fuzzyAllowed(word: string): boolean {
  return word.length >= FUZZY_MIN_LENGTH && !/^\d+$/.test(word);
}

/** How many edits a query word may be from the word it is taken for (0: none, it must be typed right). */
export function maxEdits(word: string): number {
  if (!fuzzyAllowed(word)) return 0;
  return word.length >= TWO_EDITS_MIN_LENGTH ? 2 : 1;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Every string one edit away (a letter deleted, two neighbours swapped, one replaced or one
 * inserted: Damerau–Levenshtein distance 1), over a–z, digits and the word's own letters, so
 * folded words of other scripts get their own letters' edits too. Looked up in the vocabulary in
 * one query; for a 5-letter word that is about 370 strings.
 */
export function oneEditAway(word: string): string[] {
  const chars = [...word];
  const alphabet = [...new Set([...LETTERS, ...chars])];
  const out = new Set<string>();
  for (let i = 0; i <= chars.length; i++) {
    const head = chars.slice(0, i).join('');
    const tail = chars.slice(i);
    if (tail.length > 0) out.add(head + tail.slice(1).join(''));
    if (tail.length > 1) out.add(head + tail[1] + tail[0] + tail.slice(2).join(''));
    for (const c of alphabet) {
      if (tail.length > 0 && c !== tail[0]) out.add(head + c + tail.slice(1).join(''));
      out.add(head + c + tail.join(''));
    }
  }
  out.delete(word);
  return [...out];
}

/** Damerau–Levenshtein distance (optimal string alignment): a swap of neighbours is one edit. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[x.length]![y.length]!;
}

/** A word of the vocabulary and how many documents hold it. */
export interface VocabularyWord {
  word: string;
  documents: number;
}

/** A word the query word may have meant, with its distance. */
export interface Candidate extends VocabularyWord {
  edits: number;
}

/**
 * The vocabulary words a query word may have meant, best first: within `maxEdits` of it, fewest
 * edits first, then the word most documents hold ("main" before "mina" for "mian"), then the word
 * itself (so the order never depends on the order the vocabulary came in).
 */
export function candidatesFor(queryWord: string, vocabulary: Iterable<VocabularyWord>): Candidate[] {
  const limit = maxEdits(queryWord);
  if (limit === 0) return [];
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const v of vocabulary) {
    if (v.word === queryWord || seen.has(v.word) || v.documents <= 0) continue;
    // Cheap bound first: the lengths alone say how many edits at least.
    if (Math.abs([...v.word].length - [...queryWord].length) > limit) continue;
    const edits = editDistance(queryWord, v.word);
    if (edits > limit) continue;
    seen.add(v.word);
    out.push({ ...v, edits });
  }
  return out.sort((a, b) => a.edits - b.edits || b.documents - a.documents || (a.word < b.word ? -1 : 1));
}

/** How many look-alikes of one query word the search also matches (the best ones). */
export const MAX_CANDIDATES = 20;

/** A vocabulary word found for a query word: one edit or two away, or only alike by trigrams. */
export interface FoundWord extends VocabularyWord {
  /** pg_trgm word similarity of the query word to it (0 when it was found by its edits). */
  similarity: number;
}

/** A word the search also matches for a query word, and what a document holding it scores. */
export interface Alternative extends Candidate {
  score: number;
}

/**
 * What a query word also matches, best first: the vocabulary words within `maxEdits` of it (one
 * swapped, missing, extra or wrong letter; "mian" → main), each scoring 0.45 minus 0.01 per rank
 * (so the word more documents hold wins), then words only alike by trigrams ("jelerson" →
 * jefferson), scoring 0.4 × their similarity, as the trigram match always did. An exact word
 * scores 0.8–1.0 and a prefix 0.5–0.6 (postgres-search-index.ts), so a correction never outranks
 * what was typed.
 */
export function alternativesFor(queryWord: string, found: readonly FoundWord[]): Alternative[] {
  const byEdits = candidatesFor(queryWord, found);
  const near = new Set(byEdits.map((c) => c.word));
  const alike = found
    .filter((f) => !near.has(f.word) && f.word !== queryWord && f.similarity > 0 && f.documents > 0)
    .sort((a, b) => b.similarity - a.similarity || b.documents - a.documents || (a.word < b.word ? -1 : 1))
    .map((f) => ({
      word: f.word,
      documents: f.documents,
      edits: editDistance(queryWord, f.word),
      score: 0.4 * f.similarity,
    }));
  return [...byEdits.map((c, i) => ({ ...c, score: Math.max(0.41, 0.45 - 0.01 * i) })), ...alike].slice(
    0,
    MAX_CANDIDATES,
  );
}

/**
 * "Did you mean": the query's words with each unknown word (`corrections` has it) replaced by its
 * best candidate, or null when nothing would change. The words are the folded query words, the
 * form the index matches (so the suggestion, sent as a query, finds what it promises).
 */
export function didYouMean(words: readonly string[], corrections: ReadonlyMap<string, string>): string | null {
  if (![...corrections.keys()].some((w) => words.includes(w))) return null;
  return words.map((w) => corrections.get(w) ?? w).join(' ');
}
