/**
 * `npm run bench`, audit log part: on BENCH_AUDIT_EVENTS (default 200,000; 10,000 with --quick)
 * seeded events, plus whatever the groups before it appended,
 *
 *   audit page   one /audit page (50 rows described in domain language + the capped total) per
 *                filter   vs   the same filter as a plain SQL `ORDER BY position DESC LIMIT 50`
 *   export       the CSV export of every event, streamed (rows/s)   vs   reading the same rows
 *                in keyset batches of 1,000 and writing them as JSON lines
 */
import type pg from 'pg';
import { exportAudit } from '@/app/audit/_lib/audit-export.server';
import { loadAuditView } from '@/app/audit/_lib/audit-log.server';
import { auditQuerySchema, parseAuditFilter } from '@/app/audit/_lib/audit-query';
import { seedAuditEvents } from '@/app/audit/_lib/testing';
import type { Db } from '@/lib/db';
import type { BenchContext } from './context';
import { type FigureInput, progress, repeat, time } from './measure';
import type { Scenario } from './writes';

/** Each filter of the page and the plain SQL that returns the same first page. */
const PAGE_QUERIES: { q: string; sql: string }[] = [
  { q: '', sql: 'true' },
  { q: 'actor:ada', sql: `lower(metadata #>> '{actor,name}') = 'ada'` },
  { q: 'type:AddressCorrected', sql: `type = 'AddressCorrected'` },
  { q: 'source:api created:>=2026-10-01', sql: `metadata ->> 'source' = 'api' AND recorded_at >= '2026-10-01'` },
  { q: 'reason:zip', sql: `coalesce(metadata ->> 'reason', data ->> 'reason') ILIKE '%zip%'` },
  { q: 'city:portland', sql: `position IN (SELECT position FROM audit_event_cities WHERE city = 'portland')` },
];

async function seed(ctx: BenchContext): Promise<number> {
  const target = Number(process.env.BENCH_AUDIT_EVENTS ?? (ctx.quick ? 10_000 : 200_000));
  const perAddress = 5;
  const bar = progress('audit: seed', target);
  await seedAuditEvents(ctx.ownerPool, {
    addresses: Math.ceil(target / perAddress),
    eventsPerAddress: perAddress,
    stepMs: 60_000,
    onProgress: (n) => bar.update(n),
  });
  bar.stop();
  await ctx.ownerPool.query('ANALYZE events');
  return (await ctx.ownerPool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
}

async function pages(pool: pg.Pool, prisma: Db, perRun: number): Promise<FigureInput[]> {
  const out: FigureInput[] = [];
  for (const { q, sql } of PAGE_QUERIES) {
    const { filter } = parseAuditFilter(auditQuerySchema.parse({ q }));
    await loadAuditView(prisma, filter, { limit: 50 });
    await pool.query(`SELECT * FROM events WHERE ${sql} ORDER BY position DESC LIMIT 50`);
    const perSecond = async (page: () => Promise<unknown>) => {
      const s = await time(async () => {
        for (let i = 0; i < perRun; i++) await page();
      });
      return perRun / s;
    };
    const { ours, ...baselines } = await repeat(`audit page ${q}`, {
      ours: () => perSecond(() => loadAuditView(prisma, filter, { limit: 50 })),
      'plain SQL, same filter, LIMIT 50': () =>
        perSecond(() => pool.query(`SELECT * FROM events WHERE ${sql} ORDER BY position DESC LIMIT 50`)),
    });
    out.push({ name: `audit page ${q || '(no filter)'}`, unit: 'pages/s', better: 'higher', ours, baselines });
  }
  return out;
}

/** Every event read in keyset batches of 1,000 and written as JSON lines: rows/s. */
async function plainExport(pool: pg.Pool): Promise<number> {
  let rows = 0;
  let bytes = 0;
  const s = await time(async () => {
    for (let before = '9223372036854775807'; ; ) {
      const page = await pool.query<{ position: string }>(
        'SELECT * FROM events WHERE position < $1 ORDER BY position DESC LIMIT 1000',
        [before],
      );
      if (page.rows.length === 0) break;
      let text = '';
      for (const row of page.rows) text += `${JSON.stringify(row)}\n`;
      rows += page.rows.length;
      bytes += text.length;
      before = page.rows.at(-1)!.position;
    }
  });
  if (bytes === 0) throw new Error('bench: the export baseline read nothing');
  return rows / s;
}

async function csvExport(prisma: Db): Promise<number> {
  const { filter, terms } = parseAuditFilter(auditQuerySchema.parse({}));
  let rows = 0;
  const s = await time(async () => {
    const { stream, finished } = await exportAudit(prisma, filter, terms, 'csv');
    const reader = stream.getReader();
    while (!(await reader.read()).done) {
      // Drain, as a client saving the file would.
    }
    rows = (await finished).rows;
  });
  return rows / s;
}

/** One seed per run, whichever scenario runs first (`--only "audit:audit pages"` runs the pages alone). */
let seeded: Promise<number> | null = null;
function seedOnce(ctx: BenchContext): Promise<number> {
  seeded ??= seed(ctx).then((events) => {
    ctx.notes.push(`audit: page and export figures on ${events.toLocaleString('en-US')} events`);
    return events;
  });
  return seeded;
}

const pagesScenario: Scenario = {
  name: 'audit pages',
  async run(ctx) {
    await seedOnce(ctx);
    return pages(ctx.ownerPool, ctx.prisma, ctx.quick ? 5 : 20);
  },
};

const exportScenario: Scenario = {
  name: 'audit export',
  async run(ctx) {
    await seedOnce(ctx);
    const { ours, ...baselines } = await repeat('audit export', {
      ours: () => csvExport(ctx.prisma),
      'keyset SELECT of 1,000, as JSON lines': () => plainExport(ctx.ownerPool),
    });
    return [{ name: 'audit export (CSV, every event)', unit: 'rows/s', better: 'higher', ours, baselines }];
  },
};

export const auditScenarios: Scenario[] = [pagesScenario, exportScenario];
