import type { AddressEventType, AddressFieldName } from '@/domain/address';

/** How each field is called on screen. */
export const FIELD_LABELS: Record<AddressFieldName, string> = {
  line1: 'Street address',
  line2: 'Address line 2',
  city: 'City / town',
  region: 'Region / state',
  postalCode: 'Postal code',
  country: 'Country',
  owner: 'Owner reference',
};

export const EVENT_LABELS: Record<AddressEventType, string> = {
  AddressRegistered: 'Registered',
  AddressChanged: 'Changed',
  AddressCorrected: 'Corrected',
  AddressArchived: 'Archived',
  AddressRestored: 'Restored',
};

export const ROLE_LABELS: Record<string, string> = {
  operator: 'operator',
  auditor: 'auditor',
  admin: 'admin',
  system: 'system',
};

/** A database timestamp as people read it: `2026-11-26 14:03:12 UTC` (the server renders in UTC). */
export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * `2026-11-26`, `2026-11-26T14:03`, `2026-11-26 14:03:12`, or any full ISO-8601 time. A time
 * without a zone is read as UTC (the page shows every time in UTC); a date or a time without
 * seconds means the end of that day or minute, so "as of 14:03" includes what happened at 14:03.
 */
export function parseAt(input: string): Date | null {
  const s = input.trim();
  const local = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?$/.exec(s);
  const time = local?.[2];
  const iso = local
    ? `${local[1]}T${time === undefined ? '23:59:59.999' : time.length === 5 ? `${time}:59.999` : time}Z`
    : s;
  if (!local && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(s)) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The search result count as the page says it. A capped total (search-index.ts
 * SEARCH_MAX_TOTAL_HITS) is a lower bound, so it reads "More than 1,000", never a false number.
 */
export function resultCount(result: { total: number; totalIsCapped: boolean }): string {
  if (result.total === 0) return 'No addresses found';
  const n = result.total.toLocaleString('en');
  if (result.totalIsCapped) return `More than ${n} addresses`;
  return `${n} ${result.total === 1 ? 'address' : 'addresses'}`;
}

/**
 * A facet count as the page shows it. Counted over a sample of the matches (`facetsSample`), a
 * count is a lower bound and reads "1,234+"; the sentence under the facets says why.
 */
export function facetCount(count: number, sample: number | null): string {
  return `${count.toLocaleString('en')}${sample === null ? '' : '+'}`;
}

/** Said under the facets when they were counted over a sample of the matches. */
export function facetSampleNote(sample: number | null): string | null {
  return sample === null ? null : `Counted among the ${sample.toLocaleString('en')} best matches.`;
}

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** `5 minutes ago`, `yesterday`, `3 months ago`: beside an absolute time, never instead of it. */
export function formatRelative(iso: string, now: Date): string {
  let amount = (Date.parse(iso) - now.getTime()) / 1000;
  if (Number.isNaN(amount)) return '';
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return RELATIVE.format(Math.round(amount), unit);
    amount /= size;
  }
  return '';
}
