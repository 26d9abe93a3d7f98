import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A second, brand-new install of the app (`npm start` on an empty database, on its own port), for
 * tests about the very first visit. The shared e2e server cannot serve them reliably: whichever
 * spec runs first there creates the admin. Uses the build the shared server already made.
 */
export interface FreshInstall {
  baseURL: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startFreshInstall(): Promise<FreshInstall> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-e2e-first-run-'));
  // mkdtemp makes it private; as root the embedded server runs as `postgres`, which must enter it.
  await chmod(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir, FRESH_DATA: '1' };
  env.LOG_LEVEL = 'warn';
  let dropDatabase = async () => {};
  if (process.env.DATABASE_URL) {
    // On a shared PostgreSQL, a database of its own is the empty install.
    const name = `e2e_first_run_${port}`;
    const admin = new URL(process.env.DATABASE_URL);
    admin.pathname = '/postgres';
    const run = async (sql: string) => {
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(sql).finally(() => c.end());
    };
    await run(`CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
    // A superuser's URL, like the one `npm test` was given (see playwright.config.ts).
    env.ALLOW_SUPERUSER = '1';
    dropDatabase = () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else {
    delete env.DATABASE_URL;
  }

  // Its own process group, so stopping it also stops the web server, worker and database it started.
  const child: ChildProcess = spawn('npx', ['tsx', 'scripts/start.ts'], {
    cwd: process.cwd(),
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept (the tail only) to explain a failed start; the logs are JSON lines on stdout.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseURL = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    }
    await dropDatabase().catch(() => {});
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };

  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the fresh install exited early with status ${child.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${baseURL}/api/health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the fresh install did not become healthy within 3 minutes:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { baseURL, stop };
}
