import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendVersion,
  countAfter,
  countVersions,
  hasVersion,
  runsFromText,
  runsText,
  type VersionRuns,
  versionsAfter,
} from './version-runs';

const runsOf = (versions: readonly number[]): VersionRuns => {
  const runs: VersionRuns = [];
  for (const version of versions) appendVersion(runs, version);
  return runs;
};

describe('version runs', () => {
  it('keep consecutive versions as one run, and read as text', () => {
    const runs = runsOf([2, 3, 4, 7, 9, 10]);
    expect(runs).toEqual([
      [2, 4],
      [7, 7],
      [9, 10],
    ]);
    expect(runsText(runs)).toBe('2-4,7,9-10');
    expect(runsText([])).toBe('');
    expect(runsFromText('')).toEqual([]);
  });

  it('grow without changing a run anyone holds', () => {
    const runs = runsOf([1, 2]);
    const held = runs[0]!;
    appendVersion(runs, 3);
    expect(held).toEqual([1, 2]);
    expect(runs).toEqual([[1, 3]]);
  });

  it('answer as the list of versions they hold does (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 40 })), fc.integer({ min: 0, max: 42 }), (unsorted, v) => {
        const versions = unsorted.sort((a, b) => a - b);
        const runs = runsOf(versions);
        expect(versionsAfter(runs, 0)).toEqual(versions);
        expect(countVersions(runs)).toBe(versions.length);
        expect(hasVersion(runs, v)).toBe(versions.includes(v));
        expect(versionsAfter(runs, v)).toEqual(versions.filter((x) => x > v));
        expect(countAfter(runs, v)).toBe(versions.filter((x) => x > v).length);
        expect(runsFromText(runsText(runs))).toEqual(runs);
      }),
    );
  });
});
