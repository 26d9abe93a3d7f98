import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { freePort, runningEmbeddedUrls } from '@/lib/embedded-postgres';
import { E2E_DATA_DIR } from './environment';

/*
 * README "Security": the built web server itself (`next start`, without `npm start`'s own check)
 * refuses a superuser DATABASE_URL unless ALLOW_SUPERUSER=1, and then warns. It needs the build
 * this tier makes; the superuser is the one of the e2e run's embedded PostgreSQL.
 */

const NEXT_BIN = path.join(process.cwd(), 'node_modules', 'next', 'dist', 'bin', 'next');

function nextStart(env: Record<string, string>, port: number) {
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port)], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ALLOW_SUPERUSER: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** The superuser, on the app's database of this run. */
function superuserUrl(): string {
  const urls = runningEmbeddedUrls(path.join(E2E_DATA_DIR, 'postgres'));
  if (!urls) throw new Error(`no embedded PostgreSQL is running for ${E2E_DATA_DIR}`);
  const url = new URL(urls.adminUrl);
  url.pathname = '/address_ledger';
  return url.toString();
}

test.describe('the web server on a superuser connection', () => {
  test.skip(!!process.env.DATABASE_URL, 'needs the embedded PostgreSQL of this run (no DATABASE_URL)');

  test('refuses to start without ALLOW_SUPERUSER and names the fix', async () => {
    const server = nextStart({ DATABASE_URL: superuserUrl() }, await freePort());
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('the web server refuses to run as the PostgreSQL superuser');
    expect(server.output()).toContain('ALLOW_SUPERUSER=1');
  });

  test('starts with ALLOW_SUPERUSER=1, warning that the event log can be rewritten', async () => {
    const port = await freePort();
    const server = nextStart({ DATABASE_URL: superuserUrl(), ALLOW_SUPERUSER: '1' }, port);
    try {
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => null))?.status ?? 0, {
          timeout: 30_000,
        })
        .toBe(200);
      expect(server.output()).toContain('running as a PostgreSQL superuser because ALLOW_SUPERUSER=1');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
