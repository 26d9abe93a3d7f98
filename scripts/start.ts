/**
 * `npm start`: everything a fresh clone needs to serve the app, in one command.
 *   1. a database: DATABASE_URL, or an embedded PostgreSQL with its data under .data/ (kept)
 *      and its owner and runtime roles (README "Security");
 *   2. migrations, as the owner (MIGRATION_DATABASE_URL, or DATABASE_URL if that role may);
 *      a superuser DATABASE_URL is refused unless ALLOW_SUPERUSER=1;
 *   3. a production build when there is none or the sources are newer than it;
 *   4. the web server (scripts/web-server.ts: Next.js behind Node's HTTP server) and the projector
 *      worker, restarted if the worker dies, both on the runtime role; the owner's connection
 *      string is not passed to them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { checkRuntimeRole } from '@/lib/database-roles';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { logger, redactUrl } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { needsBuild, nextBin } from './build-freshness';

const root = process.cwd();
// Node runs the children directly: npx and npm exit on SIGTERM without passing it on, which
// would leave a worker running (and holding its locks) after `npm start` was stopped.
const NEXT_BIN = nextBin(root);
const port = Number(process.env.PORT ?? 3000);
const log = logger.child({ component: 'start' });

let embedded: EmbeddedPostgresHandle | undefined;
const children = new Set<ChildProcess>();
let stopping = false;

async function main() {
  let databaseUrl = process.env.DATABASE_URL;
  let migrationUrl = process.env.MIGRATION_DATABASE_URL || databaseUrl;
  if (!databaseUrl) {
    const dataDir = path.resolve(root, process.env.DATA_DIR ?? '.data', 'postgres');
    // Test runs ask for a clean database; a user's `.data/` is never wiped (DATA_DIR must be set).
    if (process.env.FRESH_DATA === '1' && process.env.DATA_DIR) await rm(dataDir, { recursive: true, force: true });
    embedded = await startEmbeddedPostgres({
      dataDir,
      port: process.env.EMBEDDED_PG_PORT ? Number(process.env.EMBEDDED_PG_PORT) : undefined,
    });
    databaseUrl = embedded.url;
    migrationUrl = embedded.ownerUrl;
    log.info({ databaseUrl: redactUrl(databaseUrl), dataDir }, 'embedded PostgreSQL is running');
  } else {
    log.info({ databaseUrl: redactUrl(databaseUrl) }, 'using DATABASE_URL');
  }
  // Before anything is changed: a refused start leaves the database as it was.
  await checkRuntimeRole(databaseUrl, 'the web server');

  const migrations = await migrate(migrationUrl ?? databaseUrl);
  log.info({ applied: migrations.applied.length, alreadyApplied: migrations.alreadyApplied }, 'migrations up to date');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    NODE_ENV: 'production',
    // Migrated above; the workers run on the runtime role, which may not migrate.
    PROJECTOR_SKIP_MIGRATE: '1',
  };
  delete env.MIGRATION_DATABASE_URL;

  if (needsBuild(root)) {
    log.info('building the app (first start or sources changed); this takes a minute or two');
    await run(process.execPath, [NEXT_BIN, 'build'], env);
  }

  const web = launch('web', process.execPath, ['--import', 'tsx', 'scripts/web-server.ts'], env);
  web.on('exit', (code) => {
    if (!stopping) {
      log.error({ code }, 'web server exited; stopping');
      void shutdown(code ?? 1);
    }
  });
  superviseProjector(env);
  log.info({ url: `http://localhost:${port}` }, 'Address Ledger is starting');
}

/** The worker is restarted with a growing delay, so a crash loop cannot spin the CPU. */
function superviseProjector(env: NodeJS.ProcessEnv, delayMs = 1000) {
  if (!existsSync(path.join(root, 'scripts/projector.ts'))) return;
  const startedAt = Date.now();
  const worker = launch('projector', process.execPath, ['--import', 'tsx', 'scripts/projector.ts'], env);
  worker.on('exit', (code, signal) => {
    if (stopping) return;
    const next = Date.now() - startedAt > 60_000 ? 1000 : Math.min(delayMs * 2, 60_000);
    log.warn({ code, signal, restartInMs: next }, 'projector exited; restarting');
    setTimeout(() => superviseProjector(env, next), next).unref();
  });
}

function launch(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(cmd, args, { env, stdio: 'inherit', cwd: root });
  children.add(child);
  child.on('exit', () => children.delete(child));
  log.info({ process: name, pid: child.pid }, 'started');
  return child;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: 'inherit', cwd: root });
    children.add(child);
    child.on('exit', (code) => {
      children.delete(child);
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`));
    });
  });
}

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  log.info('shutting down');
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    [...children].map(
      (c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', () => resolve()))),
    ),
  );
  await embedded?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

main().catch(async (error) => {
  log.error({ err: error }, 'could not start');
  await shutdown(1);
});
