/**
 * `npm run smoke`: runs `npm start` exactly as a user would (fresh embedded database in a temp
 * directory), then checks /api/health and a POST → GET round trip with a real API token made by
 * `npm run admin`. Exits non-zero on any failure; always stops what it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@/lib/embedded-postgres';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'address-ledger-smoke-'));
// As root, the embedded server runs as `postgres`, which must be able to enter this directory.
chmodSync(dataDir, 0o755);
let app: ChildProcess | undefined;
const output: string[] = [];

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`smoke check failed: ${message}`);
}

async function waitFor(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return res;
      last = new Error(`HTTP ${res.status}`);
    } catch (error) {
      last = error;
    }
    check(app?.exitCode === null, `npm start exited with ${app?.exitCode}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(last)}`);
}

/**
 * `npm run --silent admin -- …`, resolving to its standard output. Asynchronous on purpose: with the
 * event loop blocked (execFileSync) for longer than the server's keep-alive timeout, fetch does not
 * see the server close the idle connection of the health check and sends the next request on it
 * ("fetch failed: other side closed").
 */
function admin(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'admin', '--', ...args], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`npm run admin -- ${args.slice(0, 2).join(' ')} exited with ${code}`)),
    );
    child.stdin.end(input);
  });
}

async function main() {
  const [port, pgPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
  };
  delete env.DATABASE_URL;
  app = spawn('npm', ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Kept to show on failure; the app's own logs are not interesting when it works.
  const keep = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean).slice(-200));
  app.stdout?.on('data', keep);
  app.stderr?.on('data', keep);
  const base = `http://127.0.0.1:${port}`;

  const health = await (await waitFor(`${base}/api/health`, 300_000)).json();
  check(health.status === 'ok', `health is ${JSON.stringify(health)}`);
  console.error('health: ok');

  // The CLI is how an operator makes accounts; with the same DATA_DIR it finds the running embedded
  // server and its generated runtime-role password, as it would beside a user's `npm start`.
  const adminEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete adminEnv.DATABASE_URL;
  await admin(
    ['user', 'create', '--email', 'smoke@example.test', '--name', 'Smoke Admin', '--role', 'admin', '--password-stdin'],
    adminEnv,
    'smoke-test-password-long-enough\n',
  );
  const token = (await admin(['token', 'create', '--role', 'operator', '--name', 'smoke'], adminEnv)).trim();
  check(/^\S{20,}$/.test(token), 'token create printed something other than a token');

  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/api/addresses`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      line1: '80 Third Street',
      city: 'Auburn',
      region: 'ME',
      postalCode: '04210',
      country: 'US',
    }),
  });
  const body = await created.json();
  check(created.status === 201, `POST /api/addresses answered ${created.status} ${JSON.stringify(body)}`);
  const events = await (await fetch(`${base}/api/addresses/${body.id}/events`, { headers })).json();
  check(events.events?.[0]?.type === 'AddressRegistered', `events: ${JSON.stringify(events)}`);
  check(events.events[0].metadata.actor.role === 'operator', 'the event does not name the token as its actor');
  console.error(`round trip: ok (address ${body.id}, position ${body.position})`);
}

async function stop() {
  if (app?.pid && app.exitCode === null) {
    const exited = new Promise((r) => app?.once('exit', r));
    process.kill(-app.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

main()
  .then(async () => {
    await stop();
    console.error('smoke: passed');
  })
  .catch(async (error) => {
    console.error(output.slice(-40).join('\n'));
    // fetch() says only "fetch failed"; the reason (refused, reset, timed out) is its cause.
    console.error(String(error instanceof Error ? error.message : error), error?.cause ?? '');
    await stop();
    process.exit(1);
  });
