import { describe, expect, it } from 'vitest';
import { addressDecider } from '@/domain/address';
import { figure, inParallel, median, percentile, repeat } from './measure';
import { historyOf } from './workload';

describe('percentile (nearest rank)', () => {
  it('picks the value at the rank, whatever the input order', () => {
    const values = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 95)).toBe(10);
    expect(percentile(values, 10)).toBe(1);
    expect(median([3, 1, 2])).toBe(2);
    expect(values).toEqual([9, 1, 8, 2, 7, 3, 6, 4, 5, 10]);
  });

  it('is NaN for no values, so an empty measurement cannot pass as a figure', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('figure', () => {
  it('takes the median of each side and divides ours by each baseline', () => {
    const f = figure('writes', {
      name: 'x',
      unit: 'commands/s',
      better: 'higher',
      ours: [10, 30, 20],
      baselines: { raw: [40, 80, 60], emmett: [5, 20, 10] },
    });
    expect(f.ours).toBe(20);
    expect(f.baselines).toEqual([
      { name: 'raw', value: 60, runs: [40, 80, 60], ratio: 20 / 60 },
      { name: 'emmett', value: 10, runs: [5, 20, 10], ratio: 2 },
    ]);
  });
});

describe('repeat', () => {
  it('runs every contender on every run, rotating which goes first', async () => {
    const calls: string[] = [];
    const out = await repeat(
      'test',
      {
        a: async (run) => {
          calls.push(`a${run}`);
          return run;
        },
        b: async (run) => {
          calls.push(`b${run}`);
          return run * 10;
        },
      },
      3,
    );
    expect(calls).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'b2']);
    expect(out).toEqual({ a: [0, 1, 2], b: [0, 10, 20] });
  });
});

describe('inParallel', () => {
  it('handles every item once, never more than `concurrency` at a time', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await inParallel([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await Promise.resolve();
      seen.push(item);
      running--;
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });
});

describe('historyOf', () => {
  it('is a history the decider accepts: one registration, then changes, each a new version', () => {
    const events = historyOf('0b7a1c2e-8d3f-4e5a-9b6c-7d8e9f0a1b2c', 50);
    expect(events).toHaveLength(50);
    expect(events[0]!.type).toBe('AddressRegistered');
    expect(events.slice(1).every((e) => e.type === 'AddressChanged')).toBe(true);
    const state = events.reduce(addressDecider.evolve, addressDecider.initialState());
    expect(state.version).toBe(50);
  });
});
