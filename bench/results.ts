/**
 * The outcome of a bench run: bench/results/latest.json (every figure with our value, each
 * baseline's value and the ratio, every run's value, the machine) and the table on stdout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MachineInfo } from './context';
import type { Figure } from './measure';

export interface Failure {
  scenario: string;
  error: string;
}

export interface BenchReport {
  startedAt: string;
  /** null while the run is still going (the file is rewritten after every scenario). */
  finishedAt: string | null;
  mode: 'quick' | 'full';
  command: string;
  machine: MachineInfo;
  notes: string[];
  figures: Figure[];
  failures: Failure[];
}

export const RESULTS_FILE = path.resolve(import.meta.dirname, 'results/latest.json');
/** The same figures as a Markdown table, for the README. */
export const RESULTS_MARKDOWN = path.resolve(import.meta.dirname, 'results/latest.md');

export async function writeReport(report: BenchReport): Promise<void> {
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(RESULTS_MARKDOWN, markdownTable(report));
}

export function markdownTable(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `\`${report.command}\`, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC` +
      `${report.finishedAt ? '' : ' (unfinished: the figures measured so far)'}; ${m.cpu}, ${m.cores} cores, ` +
      `${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, PostgreSQL ${m.postgres}, Emmett ${m.emmett}.`,
    '',
    '| figure | unit | ours | baseline | baseline value | ours ÷ baseline |',
    '|---|---|---:|---|---:|---:|',
    ...report.figures.flatMap((f) =>
      f.baselines.map(
        (b, i) =>
          `| ${i === 0 ? `${f.group}: ${f.name}` : ''} | ${i === 0 ? `${f.unit} (${f.better} is better)` : ''} | ` +
          `${i === 0 ? round(f.ours) : ''} | ${b.name} | ${round(b.value)} | ${b.ratio.toFixed(2)} |`,
      ),
    ),
    '',
    ...report.notes.map((n) => `- ${n}`),
    ...report.failures.map((f) => `- FAILED ${f.scenario}: ${f.error}`),
  ];
  return `${lines.join('\n')}\n`;
}

const round = (v: number) =>
  !Number.isFinite(v) ? String(v) : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);

/** One line per figure and baseline: what, unit, ours, the baseline, its value, ours ÷ it. */
export function printTable(report: BenchReport): void {
  const m = report.machine;
  console.log(
    `\nAddress Ledger benchmark (${report.mode}) — ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, PostgreSQL ${m.postgres}, Emmett ${m.emmett}; median of each scenario's runs\n`,
  );
  console.table(
    report.figures.flatMap((f) =>
      f.baselines.map((b, i) => ({
        what: i === 0 ? `${f.group}: ${f.name}` : '',
        unit: i === 0 ? `${f.unit} (${f.better} is better)` : '',
        ours: i === 0 ? round(f.ours) : '',
        baseline: b.name,
        'baseline value': round(b.value),
        'ours ÷ baseline': Number(b.ratio.toFixed(2)),
      })),
    ),
  );
  for (const note of report.notes) console.log(`- ${note}`);
  for (const f of report.figures) if (f.note) console.log(`- ${f.name}: ${f.note}`);
  if (report.failures.length > 0) {
    console.log('\nFAILED scenarios:');
    for (const failure of report.failures) console.log(`- ${failure.scenario}: ${failure.error}`);
  }
  console.log(`\nWritten to ${path.relative(process.cwd(), RESULTS_FILE)}`);
}
