import { ADDRESS_EVENT_TYPES, type AddressEventType, isAddressId } from '@/domain/address';
import type { Source } from '@/domain/messages';
import { hasForbiddenCharacters } from '@/lib/validation/address';
import { EVENT_LABELS, parseAt } from '../../addresses/_lib/labels';

/**
 * The audit search box's language, GitHub-style: `actor:ada type:AddressCorrected
 * created:>=2026-11-01 source:import city:Portland "wrong zip"`. Pure (no I/O) so the page, the
 * API and the unit tests read a query the same way.
 *
 * - Values with spaces are quoted: `actor:"Ada Lovelace"`.
 * - The same qualifier twice means either (`type:AddressChanged type:AddressCorrected`), except
 *   `created:` and `reason:`, where every one must hold.
 * - Words without a qualifier search the reason text (every word must occur, case-insensitive).
 * - An unknown qualifier or a value that cannot be read is an error naming it, never ignored:
 *   a silently dropped filter would hand an auditor more rows than they asked for.
 */

export const QUALIFIERS = ['actor', 'type', 'source', 'created', 'address', 'correlation', 'reason', 'city'] as const;
export type QualifierKey = (typeof QUALIFIERS)[number];

export interface Term {
  /** `text` is a word or quoted phrase without a qualifier. */
  key: QualifierKey | 'text';
  value: string;
}

export interface TimeBound {
  at: Date;
  inclusive: boolean;
}

/** What the events must match; every list is "any of", every list and bound is ANDed. */
export interface AuditFilter {
  /** Actor id, or actor name (case-insensitive; an API token also by its bare name). */
  actors: string[];
  types: AddressEventType[];
  sources: Source[];
  /** Recorded time (the database's clock). */
  from?: TimeBound;
  to?: TimeBound;
  addresses: string[];
  correlations: string[];
  /** Each must occur in the reason text (case-insensitive). */
  reasons: string[];
  /** The city the address had once the event applied (case-insensitive, whole name). */
  cities: string[];
}

export class QualifierError extends Error {
  constructor(
    readonly qualifier: string,
    message: string,
  ) {
    super(message);
    this.name = 'QualifierError';
  }
}

const SOURCES: readonly Source[] = ['ui', 'api', 'import'];
const QUALIFIER_SET: ReadonlySet<string> = new Set(QUALIFIERS);
const MAX_TERMS = 30;
const MAX_VALUE = 200;

/** Splits the query into terms; quotes group, a backslash escapes a quote inside them. */
export function parseQuery(q: string): Term[] {
  const terms: Term[] = [];
  const pattern = /\s*(?:([A-Za-z]+):)?(?:"((?:[^"\\]|\\.)*)"|(\S+))/gy;
  const text = q.trim();
  pattern.lastIndex = 0;
  while (pattern.lastIndex < text.length) {
    const match = pattern.exec(text);
    if (!match) break;
    const [, rawKey, quoted, bare] = match;
    const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
    if (rawKey !== undefined) {
      const key = rawKey.toLowerCase();
      if (!QUALIFIER_SET.has(key)) {
        throw new QualifierError(
          rawKey,
          `unknown qualifier "${rawKey}:"; use one of ${QUALIFIERS.map((k) => `${k}:`).join(' ')} (quote text that contains a colon)`,
        );
      }
      if (value.trim() === '') throw new QualifierError(key, `the qualifier "${key}:" needs a value`);
      terms.push({ key: key as QualifierKey, value });
    } else if (quoted !== undefined || (bare !== undefined && bare.includes(':') === false)) {
      if (value.trim() !== '') terms.push({ key: 'text', value });
    } else {
      const bareKey = /^([A-Za-z]+):$/.exec(value)?.[1]?.toLowerCase();
      if (bareKey && QUALIFIER_SET.has(bareKey)) {
        throw new QualifierError(bareKey, `the qualifier "${bareKey}:" needs a value`);
      }
      // An odd shape such as `:x` or `12:30`: name it rather than guess.
      throw new QualifierError(value, `"${value}" is not a qualifier; write key:value or quote the text`);
    }
  }
  if (terms.length > MAX_TERMS) throw new QualifierError('q', `at most ${MAX_TERMS} terms`);
  for (const t of terms) {
    if (t.value.length > MAX_VALUE)
      throw new QualifierError(t.key, `the value of ${t.key} is over ${MAX_VALUE} characters`);
  }
  return terms;
}

/** A term as it is typed, so a chip can be removed by rebuilding the query without it. */
export function formatTerm(term: Term): string {
  const value =
    /[\s"]/.test(term.value) || term.value === '' ? `"${term.value.replace(/(["\\])/g, '\\$1')}"` : term.value;
  return term.key === 'text' ? value : `${term.key}:${value}`;
}

export function formatQuery(terms: readonly Term[]): string {
  return terms.map(formatTerm).join(' ');
}

const TYPE_BY_NAME = new Map<string, AddressEventType>(
  ADDRESS_EVENT_TYPES.flatMap((type) => [
    [type.toLowerCase(), type],
    [EVENT_LABELS[type].toLowerCase(), type],
  ]),
);

/** The filter the terms describe; throws `QualifierError` for a value that cannot be read. */
export function toFilter(terms: readonly Term[]): AuditFilter {
  const filter: AuditFilter = {
    actors: [],
    types: [],
    sources: [],
    addresses: [],
    correlations: [],
    reasons: [],
    cities: [],
  };
  for (const { key, value } of terms) {
    const v = value.trim();
    // A NUL cannot reach PostgreSQL text, and no recorded value holds the characters address fields
    // refuse: a bad filter, rather than a failed query.
    if (hasForbiddenCharacters(v)) {
      throw new QualifierError(key, `the ${key} filter may not contain control, invisible or broken characters`);
    }
    switch (key) {
      case 'actor':
        filter.actors.push(v);
        break;
      case 'type': {
        const type = TYPE_BY_NAME.get(v.toLowerCase());
        if (!type) {
          throw new QualifierError(
            'type',
            `type:${v} is not an event type; use one of ${ADDRESS_EVENT_TYPES.join(', ')} (or Registered, Changed, …)`,
          );
        }
        if (!filter.types.includes(type)) filter.types.push(type);
        break;
      }
      case 'source': {
        const source = v.toLowerCase() as Source;
        if (!SOURCES.includes(source)) throw new QualifierError('source', `source:${v} is not one of ui, api, import`);
        if (!filter.sources.includes(source)) filter.sources.push(source);
        break;
      }
      case 'created':
        applyCreated(filter, v);
        break;
      case 'address':
        if (!isAddressId(v)) throw new QualifierError('address', `address:${v} is not an address id (a UUID)`);
        filter.addresses.push(v.toLowerCase());
        break;
      case 'correlation':
        filter.correlations.push(v);
        break;
      case 'reason':
      case 'text':
        filter.reasons.push(v);
        break;
      case 'city':
        filter.cities.push(v);
        break;
      default:
        assertNever(key);
    }
  }
  return filter;
}

function assertNever(value: never): never {
  throw new Error(`unexpected qualifier ${String(value)}`);
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Years PostgreSQL and the ISO form both read the same way (year 0 and below are not). */
export const inRange = (d: Date | null): Date | null => {
  const year = d?.getUTCFullYear();
  return d && year !== undefined && year >= 1 && year <= 9999 ? d : null;
};

/** The first instant of a day (or the instant itself for a full time). */
function startOf(text: string): Date | null {
  if (DATE_ONLY.test(text)) {
    const d = new Date(`${text}T00:00:00.000Z`);
    return Number.isNaN(d.getTime()) ? null : inRange(d);
  }
  return parseInstant(text);
}

/** The first instant after a day (or the instant itself for a full time), exclusive. */
function endOf(text: string): TimeBound | null {
  if (DATE_ONLY.test(text)) {
    const start = startOf(text);
    return start ? { at: new Date(start.getTime() + 86_400_000), inclusive: false } : null;
  }
  const at = parseInstant(text);
  return at ? { at, inclusive: true } : null;
}

function parseInstant(text: string): Date | null {
  // parseAt reads "2026-11-01 14:03" as the end of that minute (for "as of" views); a bound
  // written with a time means that exact instant, so spell the seconds out first.
  const full = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}$/.test(text) ? `${text}:00` : text;
  return inRange(parseAt(full));
}

function applyCreated(filter: AuditFilter, value: string): void {
  const fail = () =>
    new QualifierError(
      'created',
      `created:${value} is not a date range; write created:>=2026-11-01, created:<2026-12-01, created:2026-11-01..2026-11-30 or created:2026-11-01`,
    );
  const range = /^(.+?)\.\.(.+)$/.exec(value);
  const op = /^(>=|<=|>|<)(.+)$/.exec(value);
  let from: TimeBound | null = null;
  let to: TimeBound | null = null;
  if (range) {
    const start = startOf(range[1]!);
    from = start ? { at: start, inclusive: true } : null;
    to = endOf(range[2]!);
    if (!from || !to) throw fail();
  } else if (op) {
    const [, operator, operand] = op as unknown as [string, string, string];
    if (operator === '>=') {
      const start = startOf(operand);
      if (!start) throw fail();
      from = { at: start, inclusive: true };
    } else if (operator === '>') {
      const end = endOf(operand);
      if (!end) throw fail();
      from = { at: end.at, inclusive: !end.inclusive };
    } else if (operator === '<=') {
      to = endOf(operand);
      if (!to) throw fail();
    } else {
      const start = startOf(operand);
      if (!start) throw fail();
      to = { at: start, inclusive: false };
    }
  } else {
    const start = startOf(value);
    from = start ? { at: start, inclusive: true } : null;
    to = endOf(value);
    if (!from || !to) throw fail();
  }
  if (from) filter.from = tighter(filter.from, from, 'from');
  if (to) filter.to = tighter(filter.to, to, 'to');
}

/** Several `created:` terms must all hold: keep the narrower bound. */
function tighter(current: TimeBound | undefined, next: TimeBound, side: 'from' | 'to'): TimeBound {
  if (!current) return next;
  const a = current.at.getTime();
  const b = next.at.getTime();
  if (a === b) return { at: current.at, inclusive: current.inclusive && next.inclusive };
  return (side === 'from' ? b > a : b < a) ? next : current;
}
