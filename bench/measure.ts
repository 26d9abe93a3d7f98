/**
 * What every scenario of `npm run bench` shares: the clock, medians and percentiles, the
 * progress bar, the structured log (stderr, so stdout keeps only the table) and the figures
 * collected for bench/results/latest.json.
 */
import cliProgress from 'cli-progress';
import pino from 'pino';

/** Each scenario runs this many times; a figure is the median of the runs. */
export const RUNS = 3;

/**
 * Structured logs of the bench go to stderr; the result table alone goes to stdout. (The
 * project's logger writes to stdout: `npm run bench` sets LOG_LEVEL=warn for it, so only its
 * warnings land there.)
 */
export const log = pino(
  {
    level: process.env.BENCH_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    base: { service: 'bench' },
  },
  pino.destination({ fd: 2, sync: true }),
);

export const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9;

/** Wall time of `fn` in seconds. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return seconds(t);
}

/** The p-th percentile (0..100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export function progress(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    {
      format: ` ${label.padEnd(34)} |{bar}| {value}/{total}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5_000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

/** Runs `fn` `concurrency` times at once over the items, each worker taking the next item. */
export async function inParallel<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Higher is better for rates, lower for latencies; the ratio is always ours ÷ baseline. */
export type Better = 'higher' | 'lower';

export interface Baseline {
  name: string;
  value: number;
  runs: number[];
  /** ours ÷ this baseline. */
  ratio: number;
}

export interface Figure {
  group: string;
  name: string;
  unit: string;
  better: Better;
  /** Median of `runs`. */
  ours: number;
  runs: number[];
  baselines: Baseline[];
  note?: string;
}

export interface FigureInput {
  name: string;
  unit: string;
  better: Better;
  ours: number[];
  baselines: Record<string, number[]>;
  note?: string;
}

/** A figure from its runs (ours and each baseline's): medians and ratios. */
export function figure(group: string, input: FigureInput): Figure {
  const ours = median(input.ours);
  return {
    group,
    name: input.name,
    unit: input.unit,
    better: input.better,
    ours,
    runs: input.ours,
    baselines: Object.entries(input.baselines).map(([name, runs]) => {
      const value = median(runs);
      return { name, value, runs, ratio: ours / value };
    }),
    ...(input.note ? { note: input.note } : {}),
  };
}

/**
 * Runs the same measurement RUNS times; on each run the contenders go in a rotated order, so
 * none always runs first on a cold cache or last on a machine slowed by another engineer's job.
 */
export async function repeat<K extends string>(
  label: string,
  contenders: Record<K, (run: number) => Promise<number>>,
  runs = RUNS,
): Promise<Record<K, number[]>> {
  const names = Object.keys(contenders) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  for (let run = 0; run < runs; run++) {
    const order = names.map((_, i) => names[(i + run) % names.length]!);
    for (const name of order) {
      const value = await contenders[name](run);
      out[name].push(value);
      log.info({ scenario: label, contender: name, run: run + 1, value }, 'run done');
    }
  }
  return out;
}
