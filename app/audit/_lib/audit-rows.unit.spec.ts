import { describe, expect, it } from 'vitest';
import { actedVia, formatChange } from './audit-rows';

describe('actedVia', () => {
  it('reads how the actor acted from what every event records', () => {
    expect(actedVia({ id: 'token:7f1e', name: 'importer (API token)', role: 'operator' })).toEqual({
      kind: 'token',
      name: 'importer',
    });
    expect(actedVia({ id: '0b3c0f6e-3f0e-4d55-9d7e-1a1a1a1a1a01', name: 'Ada', role: 'auditor' })).toEqual({
      kind: 'session',
      name: 'Ada',
    });
    expect(actedVia({ id: 'system:seed', name: 'Demo data', role: 'system' })).toEqual({
      kind: 'system',
      name: 'Demo data',
    });
    expect(actedVia({ id: 'authz-test-setup', name: 'Setup', role: 'admin' })).toEqual({
      kind: 'unknown',
      name: 'Setup',
    });
  });
});

describe('formatChange', () => {
  it('says what changed in domain language', () => {
    expect(formatChange({ field: 'postalCode', before: '04210', after: '04211' })).toBe('Postal code 04210 → 04211');
    expect(formatChange({ field: 'owner', before: null, after: 'C-1' })).toBe('Owner reference (not set) → C-1');
    expect(formatChange({ field: 'line2', before: 'Suite 3', after: null })).toBe('Address line 2 Suite 3 → (cleared)');
  });
});
