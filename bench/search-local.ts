/**
 * `npx tsx bench/search-local.ts [--queries N] [--data DIR] [--sql STATEMENT …]`: the search group's query mix (bench/search.ts)
 * against a kept database holding the full Maine/New Hampshire file, imported on the first run only
 * (the file, once imported and projected, stays in DIR, default /tmp/address-ledger-search-local).
 * Each `--sql` runs as the owner before the queries (e.g. "ANALYZE address_search" to price a setting).
 * For tuning search alone without the bench's three imports; `npm run bench` stays the figure of record.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPrisma } from '@/lib/db';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { importCsvFile } from '@/lib/import-csv';
import { createLedger } from '@/lib/ledger';
import { migrate } from '@/lib/migrate';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import type { SearchQuery } from '@/projections/search/search-index';
import { databaseUrl } from './context';
import { IMPORT_ACTOR, importBenchFile } from './import';
import { percentile } from './measure';
import { startCaughtUpProjector } from './projection';
import { KINDS, queryOf, type Row } from './search';

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '200' },
    data: { type: 'string', default: '/tmp/address-ledger-search-local' },
    extra: { type: 'boolean', default: true },
    sql: { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});

const server = await startEmbeddedPostgres({ dataDir: `${values.data}/pg` });
const ownerPool = new pg.Pool({ connectionString: server.ownerUrl, max: 10 });
try {
  await migrate(server.ownerUrl);
  const imported = (await ownerPool.query<{ n: number }>('SELECT count(*)::int AS n FROM address_view')).rows[0]!.n;
  if (imported === 0) {
    const prisma = createPrisma(server.url, { max: 10 });
    const { file } = importBenchFile();
    const t = Date.now();
    const summary = await importCsvFile(createLedger(prisma), file, { source: 'bench', actor: IMPORT_ACTOR });
    console.error(`imported ${summary.rows} rows in ${(Date.now() - t) / 1000}s`);
    await prisma.$disconnect();
  }
  const ctx = { server, ownerPool, databaseUrl } as never;
  const projector = await startCaughtUpProjector(ctx);
  await projector.stop();
  for (const sql of values.sql) {
    const t = performance.now();
    await ownerPool.query(sql);
    console.error(`${sql}: ${(performance.now() - t).toFixed(0)} ms`);
  }

  const { rows } = await ownerPool.query<Row>(
    `SELECT line1, city, region, postal_code, country FROM address_view
      WHERE last_actor_id = $1 ORDER BY md5(address_id) LIMIT $2`,
    [IMPORT_ACTOR.id, Number(values.queries)],
  );
  const index = createPostgresSearchIndex({ connectionString: server.url });
  const kinds: Array<[string, Array<Omit<SearchQuery, 'sort' | 'page' | 'perPage'>>]> = KINDS.map((kind) => [
    kind,
    rows.map((r) => queryOf(kind, r)),
  ]);
  if (values.extra) {
    kinds.push([
      'broad (not in bench)',
      [
        {},
        { q: 'sreet' },
        { q: 'street' },
        { q: 's' },
        { q: 'st' },
        { q: 'mian' },
        { q: 'road' },
        { q: '1' },
        { country: 'US' },
        { status: 'active' },
      ],
    ]);
  }
  const all: number[] = [];
  for (const [kind, queries] of kinds) {
    for (const q of queries.slice(0, 10)) await index.search({ ...q, sort: 'relevance', page: 1, perPage: 20 });
    const l: number[] = [];
    let slowest = { ms: 0, q: {} as unknown, total: 0 };
    for (const q of queries) {
      const t = performance.now();
      const r = await index.search({ ...q, sort: q.q ? 'relevance' : 'updated', page: 1, perPage: 20 });
      const ms = performance.now() - t;
      l.push(ms);
      if (ms > slowest.ms) slowest = { ms, q, total: r.total };
    }
    if (!kind.startsWith('broad')) all.push(...l);
    console.log(
      `${kind.padEnd(22)} p50 ${percentile(l, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(l, 95).toFixed(1).padStart(7)} ms  slowest ${slowest.ms.toFixed(0)} ms ${JSON.stringify(slowest.q)} (total ${slowest.total})`,
    );
  }
  console.log(
    `${'all bench kinds'.padEnd(22)} p50 ${percentile(all, 50).toFixed(1).padStart(7)} ms  p95 ${percentile(all, 95).toFixed(1).padStart(7)} ms`,
  );
  await index.close();
} finally {
  await ownerPool.end();
  await server.stop();
}
