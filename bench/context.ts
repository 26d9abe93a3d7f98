/**
 * The bench's world: its own throwaway PostgreSQL, the project's database (migrated, used as in
 * production: the ledger, projector and search on the runtime role; plain-SQL baselines in
 * tables of their own, which only the owner may create) and, on the same server, a database
 * of Emmett's own, where Emmett creates its schema.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Command, DeciderCommandHandler, type Event } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import pg from 'pg';
import { type AddressCommand, type AddressEvent, type AddressState, addressDecider } from '@/domain/address';
import { createPrisma, type Db } from '@/lib/db';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { createLedger, type Ledger } from '@/lib/ledger';
import { migrate } from '@/lib/migrate';
import { log } from './measure';

/** Every pool of the bench has this many connections, ours and the baselines' alike. */
export const POOL_SIZE = 10;

export interface BenchContext {
  quick: boolean;
  /** `--import-once`: the import group imports once, into the bench's database (no scratch repeats). */
  importOnce: boolean;
  /** `--search-queries N`: the search group's queries come from N addresses (default 200, --quick 50). */
  searchQueries?: number;
  server: EmbeddedPostgresHandle;
  /** The project's database as the owner: plain-SQL baselines and their tables. */
  ownerPool: pg.Pool;
  /** The project's database as the runtime role. */
  prisma: Db;
  ledger: Ledger;
  emmett: {
    store: PostgresEventStore;
    /** Emmett's decider command handler running this project's Address decider. */
    handle(addressId: string, command: AddressCommand): Promise<unknown>;
  };
  /** A URL of `url` pointing at another database of the same server. */
  databaseUrl(url: string, database: string): string;
  machine: MachineInfo;
  /** What a scenario wants said under the table (which data file, what was skipped). */
  notes: string[];
  /** Figures later scenarios build on (the live-lag load is half the 8-writer command rate). */
  measured: { commandsPerSecond8?: number };
  close(): Promise<void>;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  emmett: string;
  os: string;
}

const EMMETT_DATABASE = 'bench_emmett';

/**
 * `pool.end()` resolves before its clients' sockets have closed; the server stopping right after
 * sends them "terminating connection due to administrator command" (57P01), which a client no
 * longer in the pool emits as an unhandled 'error' event and the process dies after a finished
 * run. A query in flight still gets its error through its own promise.
 */
function quietOnShutdown(pool: pg.Pool): pg.Pool {
  pool.on('connect', (client) => client.on('error', (error) => log.debug({ err: error }, 'pool client error')));
  pool.on('error', (error) => log.debug({ err: error }, 'idle pool client error'));
  return pool;
}

export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function openBench(
  quick: boolean,
  options: { importOnce?: boolean; searchQueries?: number } = {},
): Promise<BenchContext> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-bench-'));
  await chmod(dir, 0o755);
  log.info({ dir }, 'starting PostgreSQL');
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true }), () => server.stop()];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((error) => log.warn({ err: error }, 'close failed'));
  };
  try {
    await migrate(server.ownerUrl);
    const ownerPool = quietOnShutdown(new pg.Pool({ connectionString: server.ownerUrl, max: POOL_SIZE }));
    closers.push(() => ownerPool.end());
    const prisma = createPrisma(server.url, { max: POOL_SIZE });
    closers.push(() => prisma.$disconnect());

    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    const postgres = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    await admin.query(`CREATE DATABASE ${EMMETT_DATABASE}`);
    await admin.end();
    const { store, pool: emmettPool } = emmettStore(databaseUrl(server.adminUrl, EMMETT_DATABASE));
    closers.push(() => emmettPool.end());
    closers.push(() => store.close());
    await store.schema.migrate();
    // The decider is handed over unchanged; only the types are Emmett's (see EmmettCommand).
    const decide = DeciderCommandHandler<AddressState, EmmettCommand, EmmettEvent>({
      decide: addressDecider.decide as never,
      evolve: addressDecider.evolve as never,
      initialState: addressDecider.initialState,
      mapToStreamId: (id) => `address-${id}`,
    });

    return {
      quick,
      importOnce: options.importOnce ?? false,
      searchQueries: options.searchQueries,
      server,
      ownerPool,
      prisma,
      ledger: createLedger(prisma),
      emmett: {
        store,
        handle: (addressId, command) => decide(store, addressId, command as unknown as EmmettCommand),
      },
      databaseUrl,
      machine: machineInfo(postgres),
      notes: [],
      measured: {},
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Emmett's envelope types, which differ from ours only in the declared type of `metadata`. */
type EmmettCommand = Command;

/** Type parsers Emmett's PostgreSQL driver (dumbo) installs: int8 as bigint, JSON its own way. */
const EMMETT_TYPES = [20, 114, 3802];

/**
 * Emmett's store on a pool of its own. Creating it sets node-postgres' *global* type parsers
 * (int8 → bigint), which breaks Prisma's pg adapter in the same process ("Cannot serialize value
 * of type bigint as Int64"); so the global parsers are put back and Emmett's pool alone keeps
 * Emmett's.
 */
function emmettStore(url: string) {
  const defaults = new Map(EMMETT_TYPES.map((oid) => [oid, pg.types.getTypeParser(oid)]));
  const emmettParsers = new Map<number, (value: string) => unknown>();
  const pool = quietOnShutdown(
    new pg.Pool({
      connectionString: url,
      max: POOL_SIZE,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          emmettParsers.get(oid) ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    }),
  );
  const store = getPostgreSQLEventStore(url, { connectionOptions: { pooled: true, pool } });
  for (const oid of EMMETT_TYPES) emmettParsers.set(oid, pg.types.getTypeParser(oid));
  for (const [oid, parse] of defaults) pg.types.setTypeParser(oid, parse);
  return { store, pool };
}
type EmmettEvent = Event<AddressEvent['type'], Record<string, unknown>, Record<string, unknown>>;

function machineInfo(postgres: string): MachineInfo {
  const cpus = os.cpus();
  const manifest = path.resolve(import.meta.dirname, '../node_modules/@event-driven-io/emmett-postgresql/package.json');
  const { version: emmett } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = execFileSync('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"'], { encoding: 'utf8' }).trim();
  } catch {
    // Not every system has /etc/os-release; the kernel name and release will do.
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    emmett,
    os: osName,
  };
}
