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
 * How far the other edit candidates score below the best one: more than the 0.2 between a word in
 * the address lines and one reached only through an alternate spelling, so that for "mian street"
 * every Main St (street only as the alternate of St) ranks above the one Mina Street: the word
 * most documents hold is the likeliest meaning (the classic choice of a spelling corrector).
 */
const EDIT_RUNNER_UP_GAP = 0.25;

/**
 * What a query word also matches, best score first: the vocabulary words within `maxEdits` of it
 * (one swapped, missing, extra or wrong letter; "mian" → main), the best (most documents) scoring
 * `editScore` and the others EDIT_RUNNER_UP_GAP less, and words only alike by trigrams ("jelerson" →
 * jefferson), scoring 0.4 × their similarity, as the trigram match always did. An exact word
 * scores 0.8–1.0 and a prefix 0.5–0.6 (postgres-search-index.ts), so a correction never outranks
 * what was typed, unless `readWord` found the typed word misspelt.
 */
export function alternativesFor(queryWord: string, found: readonly FoundWord[], editScore = 0.45): Alternative[] {
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
  // Best score first: the search scores a document by the first alternative it holds.
  return [...byEdits.map((c, i) => ({ ...c, score: i === 0 ? editScore : editScore - EDIT_RUNNER_UP_GAP })), ...alike]
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX_CANDIDATES);
}

/** What the vocabulary says about one query word. */
export interface WordInVocabulary {
  /** Documents holding the word itself (0: it occurs nowhere as a whole word). */
  documents: number;
  /** The most documents holding one longer word it begins ("stret" begins "stretch"). */
  prefixed: number;
  /** Vocabulary words one or two edits away, and trigram look-alikes. */
  found: readonly FoundWord[];
}

/**
 * A word that occurs only as the start of rare words, one edit from a word this many times more
 * common, is taken as misspelt: "stret" begins "Stretch" (a few addresses) and is one letter from
 * "street" (tens of thousands), so Street ranks first and "did you mean" says so; while typing
 * "stre" nothing changes.
 */
export const MISSPELT_RATIO = 10;

/**
 * How the search reads one query word: what it also matches and how those score, and the word to
 * offer instead (null: take it as typed). A whole word of the index is taken as typed, and its
 * trigram look-alikes still match below it ("tree" finds Pinetree Drive, as the trigram match
 * always did). A word that occurs nowhere, or only as the start of
 * rare words (MISSPELT_RATIO), is corrected to its best alternative, which then ranks above a mere
 * prefix match (0.65 against 0.5–0.6). Otherwise its edits match too but rank below the prefix.
 */
export function readWord(
  queryWord: string,
  v: WordInVocabulary,
): { alternatives: Alternative[]; correction: string | null } {
  if (v.documents > 0) {
    return {
      alternatives: alternativesFor(
        queryWord,
        v.found.filter((f) => f.similarity > 0),
      ),
      correction: null,
    };
  }
  const plain = alternativesFor(queryWord, v.found);
  const best = plain[0];
  const byEdits = best !== undefined && best.edits <= maxEdits(queryWord);
  const misspelt =
    best !== undefined && (v.prefixed === 0 || (byEdits && best.documents >= MISSPELT_RATIO * v.prefixed));
  if (!misspelt) return { alternatives: plain, correction: null };
  return { alternatives: byEdits ? alternativesFor(queryWord, v.found, 0.65) : plain, correction: best.word };
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
