/**
 * `npx tsx bench/append-cost.ts [--n 400]`: where an append's time goes in the database, measured
 * in what a shared machine does not blur: the server CPU time of the one backend that runs the
 * appends (from /proc, Linux) and the WAL bytes they write, per append_events call. For a single
 * registration and for one stream's 100 events (a registration and 99 changes, the bench's
 * batch), on four copies of the migrated database:
 *
 *   as is              every trigger and index
 *   without trigger    events_derive off (no stream head, audit city or duplicate guard rows;
 *                      a registration's own rows are written by append_events itself since
 *                      migration 20261205010000, so for one registration this equals "as is")
 *   without audit idx  the eight indexes the audit log added to `events` dropped
 *   neither            both
 *
 * and, for scale, one plain INSERT (one row, one index) of the same event. The variants are
 * experiments only (a database without the trigger is not a valid ledger). The figures the issue's
 * goals are stated in (ratios of throughput) are `npm run bench -- --only writes`; this says why
 * they stand where they do.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { addressStreamId } from '@/domain/address';
import { OWNER_ROLE } from '@/lib/database-roles';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { migrate } from '@/lib/migrate';
import { databaseUrl } from './context';
import { historyOf, toNewEvents } from './workload';

const { values } = parseArgs({ options: { n: { type: 'string', default: '400' } }, strict: true });
const N = Number(values.n);

const AUDIT_INDEXES = [
  'events_audit_actor_id_idx',
  'events_audit_actor_name_idx',
  'events_audit_correlation_idx',
  'events_audit_reason_trgm_idx',
  'events_audit_source_idx',
  'events_audit_stream_idx',
  'events_audit_type_idx',
  'events_recorded_at_idx',
];
const VARIANTS: Record<string, string[]> = {
  'as is': [],
  'without trigger': ['ALTER TABLE events DISABLE TRIGGER events_derive'],
  'without audit idx': [`DROP INDEX ${AUDIT_INDEXES.join(', ')}`],
  neither: ['ALTER TABLE events DISABLE TRIGGER events_derive', `DROP INDEX ${AUDIT_INDEXES.join(', ')}`],
};

const APPEND = 'SELECT outcome FROM append_events($1, 0, $2::jsonb, $3, $4, $5)';

/** CPU time (user + system) of a backend process so far, in µs (clock ticks of 10 ms). */
function backendCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** One append's parameters: a stream of `length` events, its registration an address of its own. */
function appendOf(length: number, n: number): unknown[] {
  const id = randomUUID();
  const events = historyOf(id, length).map((e) =>
    e.type === 'AddressRegistered' ? { ...e, data: { ...e.data, line1: `${n} ${id} Road` } } : e,
  );
  const payload = toNewEvents(events).map((e) => ({ eventId: randomUUID(), ...e }));
  return [addressStreamId(id), JSON.stringify(payload), randomUUID(), 'bench', 'bench_channel'];
}

async function cost(client: pg.Client, pid: number, calls: unknown[][], sql: string) {
  const { rows } = await client.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l');
  const cpu = backendCpu(pid);
  for (const values of calls) await client.query({ name: sql === APPEND ? 'append' : 'plain', text: sql, values });
  const cpuUs = (backendCpu(pid) - cpu) / calls.length;
  const wal = await client.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS d', [
    rows[0]!.l,
  ]);
  return { cpuUs, walBytes: Number(wal.rows[0]!.d) / calls.length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-append-cost-'));
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    const clients: Record<string, { client: pg.Client; pid: number }> = {};
    for (const [name, setup] of Object.entries(VARIANTS)) {
      // A database of its own per variant, migrated like the app's.
      const db = `cost_${Object.keys(clients).length}`;
      await admin.query(`CREATE DATABASE ${db} OWNER ${OWNER_ROLE}`);
      await migrate(databaseUrl(server.ownerUrl, db));
      const client = new pg.Client({ connectionString: databaseUrl(server.ownerUrl, db) });
      // The server stopping at the end ends this connection: not an error worth a crash.
      client.on('error', () => {});
      await client.connect();
      for (const sql of setup) await client.query(sql);
      await client.query(`CREATE TABLE bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stream_id text NOT NULL, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`);
      const { rows } = await client.query<{ p: number }>('SELECT pg_backend_pid() AS p');
      clients[name] = { client, pid: rows[0]!.p };
    }
    await admin.end();

    let made = 0;
    const shapes = [
      { name: '1 registration', length: 1, calls: N },
      { name: '100 events, one stream', length: 100, calls: Math.max(5, Math.round(N / 25)) },
    ];
    const table: Record<string, string | number>[] = [];
    for (const shape of shapes) {
      const runs: Record<string, { cpuUs: number[]; walBytes: number[] }> = {};
      // Warm-up, then three rounds with the variants in turn, so load on the machine hits each alike.
      for (let round = 0; round <= 3; round++) {
        for (const [name, { client, pid }] of Object.entries(clients)) {
          const calls = Array.from({ length: round === 0 ? 20 : shape.calls }, () => appendOf(shape.length, ++made));
          const c = await cost(client, pid, calls, APPEND);
          if (round === 0) continue;
          runs[name] ??= { cpuUs: [], walBytes: [] };
          runs[name].cpuUs.push(c.cpuUs);
          runs[name].walBytes.push(c.walBytes);
        }
      }
      const { client, pid } = clients['as is']!;
      const plain = Array.from({ length: shape.calls }, () => {
        const events = historyOf(randomUUID(), shape.length);
        const rows = events.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`);
        return {
          text: `INSERT INTO bench_plain (stream_id, type, data, metadata) VALUES ${rows.join(', ')}`,
          values: events.flatMap((e) => ['s', e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]),
        };
      });
      const lsn = await client.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l');
      const cpu = backendCpu(pid);
      for (const q of plain) await client.query(q);
      const plainCpu = (backendCpu(pid) - cpu) / plain.length;
      const plainWal = await client.query<{ d: string }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1) AS d',
        [lsn.rows[0]!.l],
      );
      for (const [name, r] of Object.entries(runs)) {
        table.push({
          shape: shape.name,
          variant: name,
          'server CPU µs': Math.round(median(r.cpuUs)),
          'WAL bytes': Math.round(median(r.walBytes)),
        });
      }
      table.push({
        shape: shape.name,
        variant: 'plain INSERT (baseline)',
        'server CPU µs': Math.round(plainCpu),
        'WAL bytes': Math.round(Number(plainWal.rows[0]!.d) / plain.length),
      });
    }
    console.table(table);
    for (const { client } of Object.values(clients)) await client.end();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
