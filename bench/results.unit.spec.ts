import { describe, expect, it } from 'vitest';
import { figure } from './measure';
import { type BenchReport, markdownTable } from './results';

const report = (finishedAt: string | null): BenchReport => ({
  startedAt: '2026-12-01T12:00:00.000Z',
  finishedAt,
  mode: 'full',
  command: 'npm run bench',
  machine: { cpu: 'CPU X', cores: 2, memoryGiB: 8, node: 'v20', postgres: '17.6', emmett: '0.42.0', os: 'Debian' },
  notes: ['import: the sample'],
  figures: [
    figure('writes', {
      name: '1 writer',
      unit: 'commands/s',
      better: 'higher',
      ours: [700],
      baselines: { 'raw INSERT': [3000], Emmett: [800] },
    }),
  ],
  failures: [{ scenario: 'search: search', error: 'Error: boom' }],
});

describe('markdownTable', () => {
  it('has a row per baseline with its value and ratio, the machine, the notes and the failures', () => {
    const md = markdownTable(report('2026-12-01T12:30:00.000Z'));
    expect(md).toContain('CPU X, 2 cores');
    expect(md).toContain('| writes: 1 writer | commands/s (higher is better) | 700 | raw INSERT | 3,000 | 0.23 |');
    expect(md).toContain('|  |  |  | Emmett | 800 | 0.88 |');
    expect(md).toContain('- import: the sample');
    expect(md).toContain('- FAILED search: search: Error: boom');
    expect(md).not.toContain('unfinished');
  });

  it('says so when the run has not finished', () => {
    expect(markdownTable(report(null))).toContain('unfinished');
  });
});
