/**
 * The characters refused in every address field, reason and search parameter, on their own so the
 * browser can use the rule (the search page parses its URL with the same schema as the API)
 * without bundling the country and postal-code tables of ./address.ts.
 */
/*
 * Characters refused in every address field and reason, because they are invisible or change how
 * the rest is shown, so two addresses that look the same would differ (duplicates the search
 * cannot find, spoofed look-alikes):
 * - controls (C0, DEL, C1), line and paragraph separators;
 * - every format character (\p{Cf}: zero-width space U+200B, LRM/RLM U+200E/F, the Arabic letter
 *   mark U+061C, soft hyphen U+00AD, word joiner U+2060, bidi embeddings/overrides/isolates, the
 *   BOM, interlinear annotations U+FFF9-FFFB, tag characters U+E0000-E007F, …);
 * - the rest of Unicode's default-ignorable code points (Hangul fillers U+115F/U+1160/U+3164/
 *   U+FFA0, the combining grapheme joiner, …) and the blank Braille pattern U+2800, which render
 *   as nothing or as blank;
 * - lone UTF-16 surrogates (not text at all: PostgreSQL refuses them, which was a 500) and
 *   noncharacters (U+FFFE, U+FFFF, …).
 *
 * Kept where a script needs them (as IDNA2008's CONTEXTJ rule keeps them in domain names):
 * - ZWNJ U+200C and ZWJ U+200D between two letters of a script that spells with them: Persian
 *   (Arabic script) writes می‌خواهم with a ZWNJ, and Indic scripts use ZWJ/ZWNJ after a virama
 *   to choose a conjunct's form, so a name in Tehran or Kerala can be written correctly. Anywhere
 *   else (Latin text, start or end of a field) they are refused like U+200B.
 * - variation selectors (U+FE00-FE0F, U+E0100-E01EF) and Mongolian free variation selectors
 *   right after a letter: Japanese place names are written with ideographic variation sequences.
 */
const FORBIDDEN_CHARACTERS =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\u2800]/u;
const JOINING_SCRIPTS = [
  'Arab',
  'Syrc',
  'Nkoo',
  'Deva',
  'Beng',
  'Guru',
  'Gujr',
  'Orya',
  'Taml',
  'Telu',
  'Knda',
  'Mlym',
  'Sinh',
]
  .map((script) => `\\p{scx=${script}}`)
  .join('');
const ALLOWED_IN_CONTEXT = new RegExp(
  `(?<=[${JOINING_SCRIPTS}])[\\u200C\\u200D](?=[${JOINING_SCRIPTS}])|(?<=\\p{L})[\\uFE00-\\uFE0F\\u180B-\\u180D\\u180F\\u{E0100}-\\u{E01EF}]`,
  'gu',
);

export function hasForbiddenCharacters(value: string): boolean {
  return FORBIDDEN_CHARACTERS.test(value.replace(ALLOWED_IN_CONTEXT, ''));
}
