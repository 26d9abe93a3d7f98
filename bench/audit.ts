/**
 * `npm run bench`, audit log part: on BENCH_AUDIT_EVENTS (default 200,000) seeded events,
 *
 *   audit page   one /audit page (50 rows described in domain language + the capped total) per
 *                filter   vs   the same filter as a plain SQL `ORDER BY position DESC LIMIT 50`
 *   export       the CSV export of every event, streamed (rows/s)   vs   reading the same rows
 *                in keyset batches of 1,000 and writing them as JSON lines
 */
import cliProgress from 'cli-progress';
import type pg from 'pg';
import { exportAudit } from '@/app/audit/_lib/audit-export.server';
import { loadAuditView } from '@/app/audit/_lib/audit-log.server';
import { auditQuerySchema, parseAuditFilter } from '@/app/audit/_lib/audit-query';
import { seedAuditEvents } from '@/app/audit/_lib/testing';
import type { Db } from '@/lib/db';

export interface BenchResult {
  name: string;
  unit: string;
  measured: number;
  baseline: number;
}

const seconds = (startedAt: bigint) => Number(process.hrtime.bigint() - startedAt) / 1e9;

/** Each filter of the page and the plain SQL that returns the same first page. */
const PAGE_QUERIES: { q: string; sql: string }[] = [
  { q: '', sql: 'true' },
  { q: 'actor:ada', sql: `lower(metadata #>> '{actor,name}') = 'ada'` },
  { q: 'type:AddressCorrected', sql: `type = 'AddressCorrected'` },
  { q: 'source:api created:>=2026-10-01', sql: `metadata ->> 'source' = 'api' AND recorded_at >= '2026-10-01'` },
  { q: 'reason:zip', sql: `coalesce(metadata ->> 'reason', data ->> 'reason', '') ILIKE '%zip%'` },
  { q: 'city:portland', sql: `position IN (SELECT position FROM audit_event_cities WHERE city = 'portland')` },
];

export async function benchAudit(pool: pg.Pool, prisma: Db): Promise<{ results: BenchResult[]; events: number }> {
  const target = Number(process.env.BENCH_AUDIT_EVENTS ?? 200_000);
  const perAddress = 5;
  const bar = new cliProgress.SingleBar(
    { format: ` ${'audit: seed'.padEnd(22)} |{bar}| {value}/{total}`, stream: process.stderr, noTTYOutput: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(target, 0);
  await seedAuditEvents(pool, {
    addresses: Math.ceil(target / perAddress),
    eventsPerAddress: perAddress,
    stepMs: 60_000,
    onProgress: (n) => bar.update(n),
  });
  bar.stop();
  await pool.query('ANALYZE events');
  const events = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
  const results: BenchResult[] = [];

  const runs = 20;
  for (const { q, sql } of PAGE_QUERIES) {
    const { filter } = parseAuditFilter(auditQuerySchema.parse({ q }));
    await loadAuditView(prisma, filter, { limit: 50 });
    let t = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) {
      await pool.query(`SELECT * FROM events WHERE ${sql} ORDER BY position DESC LIMIT 50`);
    }
    const baseline = runs / seconds(t);
    t = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await loadAuditView(prisma, filter, { limit: 50 });
    results.push({ name: `audit page ${q || '(no filter)'}`, unit: 'pages/s', measured: runs / seconds(t), baseline });
  }

  // export ----------------------------------------------------------------------------------
  let t = process.hrtime.bigint();
  let plain = 0;
  let bytes = 0;
  for (let before = '9223372036854775807'; ; ) {
    const page = await pool.query<{ position: string }>(
      'SELECT * FROM events WHERE position < $1 ORDER BY position DESC LIMIT 1000',
      [before],
    );
    if (page.rows.length === 0) break;
    let text = '';
    for (const row of page.rows) text += `${JSON.stringify(row)}\n`;
    plain += page.rows.length;
    bytes += text.length;
    before = page.rows.at(-1)!.position;
  }
  const exportBaseline = plain / seconds(t);
  if (bytes === 0) throw new Error('bench: the export baseline read nothing');
  const { filter, terms } = parseAuditFilter(auditQuerySchema.parse({}));
  t = process.hrtime.bigint();
  const { stream, finished } = await exportAudit(prisma, filter, terms, 'csv');
  const reader = stream.getReader();
  while (!(await reader.read()).done) {
    // Drain, as a client saving the file would.
  }
  const { rows } = await finished;
  results.push({ name: 'audit export (CSV)', unit: 'rows/s', measured: rows / seconds(t), baseline: exportBaseline });
  return { results, events };
}
