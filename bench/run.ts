/**
 * `npm run bench [-- --quick] [-- --only <group>[:<scenario>],…] [-- --import-once] [-- --search-queries N]`: what the
 * event-sourcing machinery costs, as
 * ratios against baselines measured in the same run on the same throwaway PostgreSQL: plain SQL
 * (the floor) and Emmett (`@event-driven-io/emmett-postgresql`, a peer event store, in a
 * database of its own on the same server). Absolute numbers depend on the machine; compare
 * ratios between commits. Every scenario warms up, then runs RUNS (3) times; a figure is the
 * median. Results: bench/results/latest.json; the table goes to stdout, progress and structured
 * logs to stderr. Any failed scenario makes the exit status 1 (the others still run).
 *
 * Groups, in the order they run (each module's header says what it compares):
 *   writes      bench/writes.ts      commands, appends, batches, long histories, every trigger
 *   timeline    bench/timeline.ts    the timeline of a 1,000-event address vs a raw SELECT
 *   import      bench/import.ts      `npm run import` of the Maine/New Hampshire file vs COPY
 *   audit       bench/audit.ts       the audit page per filter and the CSV export
 *   projection  bench/projection.ts  feed read, catch-up, rebuild, live lag
 *   search      bench/search.ts      search on the imported file vs ILIKE
 *   sse         bench/sse.ts         followers of /api/events/stream one process serves
 */
import { parseArgs } from 'node:util';
import { auditScenarios } from './audit';
import { type BenchContext, openBench } from './context';
import { importScenarios } from './import';
import { type Figure, figure, log } from './measure';
import { projectionScenarios } from './projection';
import { type BenchReport, type Failure, printTable, writeReport } from './results';
import { searchScenarios } from './search';
import { sseScenarios } from './sse';
import { timelineScenarios } from './timeline';
import { type Scenario, writeScenarios } from './writes';

/** The write path first: the figures most runs are for. Import before search, which needs its rows. */
const GROUPS: Record<string, Scenario[]> = {
  writes: writeScenarios,
  timeline: timelineScenarios,
  import: importScenarios,
  audit: auditScenarios,
  projection: projectionScenarios,
  search: searchScenarios,
  sse: sseScenarios,
};

async function main() {
  // A typo in an option must fail, not run a long benchmark with the defaults.
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      // One import (into the bench's database) instead of RUNS: enough for the search group's data.
      'import-once': { type: 'boolean', default: false },
      // Addresses the search group makes its queries from (default 200, --quick 50): fewer keep a
      // run with the full file under the shared lock's few minutes (its ILIKE baseline scans).
      'search-queries': { type: 'string' },
    },
    strict: true,
  });
  // `writes` runs the group, `writes:long history` one scenario of it (e.g. to measure one figure
  // under the shared lock without the group's other minutes).
  const only = values.only?.split(',').map((entry) => {
    const [group = '', scenario] = entry.split(':').map((part) => part.trim());
    const scenarios = GROUPS[group];
    if (!scenarios) throw new Error(`--only: unknown group "${group}"; known: ${Object.keys(GROUPS).join(', ')}`);
    if (scenario !== undefined && !scenarios.some((s) => s.name === scenario)) {
      throw new Error(
        `--only: group ${group} has no scenario "${scenario}"; known: ${scenarios.map((s) => s.name).join(', ')}`,
      );
    }
    return { group, scenario };
  });
  const selected = (group: string, scenario: Scenario) =>
    !only || only.some((o) => o.group === group && (o.scenario === undefined || o.scenario === scenario.name));
  const startedAt = new Date();
  const searchQueries = values['search-queries'] === undefined ? undefined : Number(values['search-queries']);
  if (searchQueries !== undefined && !(Number.isInteger(searchQueries) && searchQueries > 0))
    throw new Error('--search-queries: a positive whole number');
  const ctx = await openBench(values.quick, { importOnce: values['import-once'], searchQueries });
  const figures: Figure[] = [];
  const failures: Failure[] = [];
  const report = (finished: boolean): BenchReport => ({
    startedAt: startedAt.toISOString(),
    finishedAt: finished ? new Date().toISOString() : null,
    mode: values.quick ? 'quick' : 'full',
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: ctx.machine,
    notes: ctx.notes,
    figures,
    failures,
  });
  try {
    for (const [group, scenarios] of Object.entries(GROUPS)) {
      for (const scenario of scenarios) {
        if (!selected(group, scenario)) continue;
        figures.push(...(await runScenario(ctx, group, scenario, failures)));
        // After every scenario, so a long run that is stopped still leaves what it measured.
        await writeReport(report(false));
      }
    }
  } finally {
    await ctx.close();
  }
  const final = report(true);
  await writeReport(final);
  printTable(final);
  if (failures.length > 0) process.exitCode = 1;
}

async function runScenario(ctx: BenchContext, group: string, scenario: Scenario, failures: Failure[]) {
  const t = Date.now();
  log.info({ group, scenario: scenario.name }, 'scenario started');
  try {
    const out = (await scenario.run(ctx)).map((input) => figure(group, input));
    log.info({ group, scenario: scenario.name, seconds: (Date.now() - t) / 1000 }, 'scenario done');
    return out;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log.error({ group, scenario: scenario.name, err: error }, 'scenario failed');
    failures.push({ scenario: `${group}: ${scenario.name}`, error: message });
    return [];
  }
}

main().catch((error) => {
  log.fatal({ err: error }, 'bench failed');
  process.exit(1);
});
