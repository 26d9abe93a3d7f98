import { describe, expect, it } from 'vitest';
import { neutraliseCell } from './spreadsheet-cell';

describe('neutraliseCell', () => {
  it('prefixes every cell a spreadsheet would run as a formula, and only those', () => {
    for (const cell of ['=HYPERLINK("http://x")', '+1', '-2', '@SUM(A1)', '\t=1', '\r=1']) {
      expect(neutraliseCell(cell)).toBe(`'${cell}`);
    }
    for (const cell of ['80 Third Street', '', "'quoted", 'a=b', ' =1']) expect(neutraliseCell(cell)).toBe(cell);
  });
});
