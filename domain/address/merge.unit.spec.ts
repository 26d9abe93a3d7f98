import { describe, expect, it } from 'vitest';
import { mergeFields } from './merge';

const base = { line1: '12 Main Street', city: 'Springfield', postalCode: '62701', country: 'US' };

function outcomes(theirs: typeof base & { owner?: string }, mine: Record<string, string | null>) {
  return Object.fromEntries(
    mergeFields(base, theirs, mine)
      .filter((m) => m.outcome !== 'unchanged')
      .map((m) => [m.field, [m.outcome, m.merged]]),
  );
}

describe('mergeFields', () => {
  it('keeps their change and applies mine when different fields changed', () => {
    expect(outcomes({ ...base, city: 'Shelbyville' }, { ...base, postalCode: '62702' })).toEqual({
      city: ['theirs', 'Shelbyville'],
      postalCode: ['mine', '62702'],
    });
  });

  it('merges a field both set to the same value without asking', () => {
    expect(outcomes({ ...base, city: 'Shelbyville' }, { city: 'Shelbyville' })).toEqual({
      city: ['same', 'Shelbyville'],
    });
  });

  it('leaves a field both changed differently undecided, with all three values', () => {
    const merged = mergeFields(base, { ...base, postalCode: '62703' }, { postalCode: '62704' });
    expect(merged.find((m) => m.field === 'postalCode')).toEqual({
      field: 'postalCode',
      base: '62701',
      theirs: '62703',
      mine: '62704',
      outcome: 'conflict',
      merged: null,
    });
  });

  it('reads an empty optional field as not set, on both sides', () => {
    expect(outcomes({ ...base, owner: 'CUST-1' }, { owner: '' })).toEqual({ owner: ['theirs', 'CUST-1'] });
    expect(outcomes(base, { owner: 'CUST-2', line2: '' })).toEqual({ owner: ['mine', 'CUST-2'] });
  });

  it('treats a field missing from the edit as untouched', () => {
    expect(outcomes({ ...base, line1: '14 Main Street' }, {})).toEqual({ line1: ['theirs', '14 Main Street'] });
  });
});
