/**
 * Filters as people type them. The index stores what was registered: the country as ISO 3166-1
 * alpha-2 ("US"), the region as written ("ME", or "Maine", or "Bayern"). A filter of "USA",
 * "United States" or "Maine" matched nothing before (or was refused), although the user meant
 * exactly those addresses; these functions turn what was typed into what the index holds, from
 * maintained lists (i18n-iso-countries for ISO 3166-1, iso-3166 for the 5,000 ISO 3166-2
 * subdivisions) rather than a table of our own.
 */
import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';
import { iso31662 } from 'iso-3166';
import { foldText } from './normalize';

countries.registerLocale(en);

/** Folded for comparing names: case, accents, punctuation and runs of spaces do not count. */
function nameKey(text: string): string {
  return foldText(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

let countryKeys: Map<string, string> | undefined;

/** Every English name and alias of every country, and every alpha-3 code, folded → alpha-2. */
function countryIndex(): Map<string, string> {
  if (countryKeys) return countryKeys;
  const map = new Map<string, string>();
  for (const [alpha2, names] of Object.entries(countries.getNames('en', { select: 'all' }))) {
    for (const name of names) map.set(nameKey(name), alpha2);
    const alpha3 = countries.alpha2ToAlpha3(alpha2);
    if (alpha3) map.set(alpha3.toLowerCase(), alpha2);
    map.set(alpha2.toLowerCase(), alpha2);
  }
  countryKeys = map;
  return map;
}

/**
 * The ISO 3166-1 alpha-2 code for a country as typed: a code (alpha-2 or alpha-3, any case) or an
 * English name or common alias ("United States", "USA", "UK", "Côte d'Ivoire" without accents);
 * null when it names no country.
 */
export function countryCode(input: string): string | null {
  const key = nameKey(input);
  if (key === '') return null;
  return countryIndex().get(key) ?? null;
}

interface Subdivision {
  /** ISO 3166-1 alpha-2 of the country it belongs to. */
  country: string;
  /** The code without the country ("ME" of US-ME), as people write it in addresses. */
  code: string;
  name: string;
}

let subdivisionKeys: Map<string, Subdivision[]> | undefined;

/** Folded code, full code ("us me") and name (and the name before a comma or bracket) → subdivisions. */
function subdivisionIndex(): Map<string, Subdivision[]> {
  if (subdivisionKeys) return subdivisionKeys;
  const map = new Map<string, Subdivision[]>();
  const add = (key: string, entry: Subdivision) => {
    if (key === '') return;
    const list = map.get(key) ?? [];
    if (!list.includes(entry)) list.push(entry);
    map.set(key, list);
  };
  for (const { code: full, name } of iso31662) {
    const [country, code] = full.split('-') as [string, string];
    const entry: Subdivision = { country, code, name };
    add(nameKey(code), entry);
    add(nameKey(full), entry);
    add(nameKey(name), entry);
    // "Madrid, Comunidad de", "Sofia (stolitsa)": the place is what comes first.
    const short = name.split(/[,(]/)[0]!;
    if (short.trim().length >= 3) add(nameKey(short), entry);
  }
  subdivisionKeys = map;
  return map;
}

/**
 * The region values a region filter accepts: what was typed, and, when it names an ISO 3166-2
 * subdivision by code or by name, that subdivision's code and name, so "Maine" finds addresses
 * registered with "ME" and "ME" finds those registered with "Maine". With a country, only its
 * subdivisions count ("ME" is also Messina, IT-ME); without one, every country's do. The first
 * value is the typed one; comparison ignores case and accents (the adapters fold).
 */
export function regionForms(region: string, country?: string): string[] {
  const typed = region.trim();
  // Distinct as the adapters compare (case and accents folded, punctuation kept).
  const compared = (text: string) => foldText(text).trim();
  const out = new Map<string, string>([[compared(typed), typed]]);
  const wantedCountry = country?.toUpperCase();
  for (const entry of subdivisionIndex().get(nameKey(typed)) ?? []) {
    if (wantedCountry && entry.country !== wantedCountry) continue;
    for (const form of [entry.code, entry.name]) if (!out.has(compared(form))) out.set(compared(form), form);
  }
  return [...out.values()];
}
