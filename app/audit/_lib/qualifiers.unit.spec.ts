import { describe, expect, it } from 'vitest';
import { formatQuery, parseQuery, QualifierError, toFilter } from './qualifiers';

describe('parseQuery', () => {
  it('reads qualifiers, quoted values and free words', () => {
    expect(parseQuery('actor:ada type:AddressCorrected created:>=2026-11-01 source:import city:Portland')).toEqual([
      { key: 'actor', value: 'ada' },
      { key: 'type', value: 'AddressCorrected' },
      { key: 'created', value: '>=2026-11-01' },
      { key: 'source', value: 'import' },
      { key: 'city', value: 'Portland' },
    ]);
    expect(parseQuery('  actor:"Ada Lovelace"  "wrong zip" typo REASON:x ')).toEqual([
      { key: 'actor', value: 'Ada Lovelace' },
      { key: 'text', value: 'wrong zip' },
      { key: 'text', value: 'typo' },
      { key: 'reason', value: 'x' },
    ]);
  });

  it('names an unknown qualifier, a missing value and an odd shape', () => {
    expect(() => parseQuery('colour:red')).toThrow(/unknown qualifier "colour:"/);
    expect(() => parseQuery('http://x')).toThrow(/unknown qualifier "http:"/);
    expect(() => parseQuery('actor:')).toThrow(/"actor:" needs a value/);
    expect(() => parseQuery('12:30')).toThrow(/"12:30" is not a qualifier/);
    try {
      parseQuery('colour:red');
    } catch (error) {
      expect(error).toBeInstanceOf(QualifierError);
      expect((error as QualifierError).qualifier).toBe('colour');
    }
  });

  it('writes terms back so that they read the same (chips remove one term)', () => {
    const q = 'actor:"Ada \\"the\\" Lovelace" type:corrected "two words" created:>=2026-11-01';
    const terms = parseQuery(q);
    expect(parseQuery(formatQuery(terms))).toEqual(terms);
    expect(formatQuery(terms.slice(1))).toBe('type:corrected "two words" created:>=2026-11-01');
  });
});

describe('toFilter', () => {
  it('ORs repeated qualifiers, takes type labels, and reads time bounds as UTC days', () => {
    const f = toFilter(
      parseQuery('actor:ada actor:bob type:corrected type:AddressChanged source:API created:2026-11-01..2026-11-30'),
    );
    expect(f.actors).toEqual(['ada', 'bob']);
    expect(f.types).toEqual(['AddressCorrected', 'AddressChanged']);
    expect(f.sources).toEqual(['api']);
    expect(f.from).toEqual({ at: new Date('2026-11-01T00:00:00Z'), inclusive: true });
    expect(f.to).toEqual({ at: new Date('2026-12-01T00:00:00Z'), inclusive: false });
  });

  it('keeps the narrower bound when several created: terms apply', () => {
    const f = toFilter(parseQuery('created:>=2026-10-01 created:>2026-10-05 created:<=2026-12-31 created:<2026-11-01'));
    expect(f.from).toEqual({ at: new Date('2026-10-06T00:00:00Z'), inclusive: true });
    expect(f.to).toEqual({ at: new Date('2026-11-01T00:00:00Z'), inclusive: false });
  });

  it('reads an exact time as that instant', () => {
    const f = toFilter(parseQuery('created:>=2026-10-03T05:00:00Z created:"<=2026-10-04 06:30"'));
    expect(f.from).toEqual({ at: new Date('2026-10-03T05:00:00Z'), inclusive: true });
    expect(f.to).toEqual({ at: new Date('2026-10-04T06:30:00Z'), inclusive: true });
  });

  it('refuses values it cannot read, naming the qualifier', () => {
    for (const [q, key] of [
      ['type:Nope', 'type'],
      ['source:fax', 'source'],
      ['created:soon', 'created'],
      ['created:>=2026-13-45', 'created'],
      ['address:not-a-uuid', 'address'],
    ] as const) {
      expect(() => toFilter(parseQuery(q)), q).toThrow(QualifierError);
      try {
        toFilter(parseQuery(q));
      } catch (error) {
        expect((error as QualifierError).qualifier).toBe(key);
      }
    }
  });
});
