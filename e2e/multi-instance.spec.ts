import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import pg from 'pg';
import { createApiToken } from '@/lib/auth/tokens';
import { createUser } from '@/lib/auth/users';
import { createPrisma, type Db } from '@/lib/db';
import { freePort, runningEmbeddedUrls } from '@/lib/embedded-postgres';
import { migrate } from '@/lib/migrate';
import { replayAddresses } from '@/projections/address-view/projection';
import { getProjectionStatus } from '@/projections/status';
import { addressViewDocs, allEvents, waitForProjection } from '@/projections/testing';
import { waitFor } from '@/test/wait';
import { E2E_DATA_DIR } from './environment';

/*
 * README "Several instances": three web servers on one database (the same build, the same
 * NEXT_SERVER_ACTIONS_ENCRYPTION_KEY), behind a round-robin proxy on loopback, and two projector
 * processes. Postgres is the only state they share. Its own database on the run's embedded
 * PostgreSQL, so the app of the other specs (and its projector) stays out of it.
 */

const ADMIN = { name: 'Multi Admin', email: 'multi.admin@example.org', password: 'multi instance password 1' };
const INSTANCES = 3;

interface Child {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

function run(name: string, script: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', ALLOW_SUPERUSER: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
  child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, exited, output: () => output };
}

interface Served {
  upstream: number;
  method: string;
  path: string;
  document: boolean;
  action: boolean;
}

/**
 * Round-robin over the instances. One rule makes the test unable to pass by luck: a server action
 * goes to the instance after the one that rendered the last page, so the form is always rendered
 * by one instance and submitted through another.
 */
async function startProxy(ports: number[]) {
  const served: Served[] = [];
  let next = 0;
  let lastDocument = -1;
  const server = http.createServer((req, res) => {
    const action = req.method === 'POST' && req.headers['next-action'] !== undefined;
    const document = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    const upstream = action && lastDocument >= 0 ? (lastDocument + 1) % ports.length : next++ % ports.length;
    if (document) lastDocument = upstream;
    served.push({ upstream, method: req.method ?? '', path: req.url ?? '', document, action });
    const forward = http.request(
      {
        host: '127.0.0.1',
        port: ports[upstream],
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1' },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A client that goes away (an SSE reader done) closes the upstream request too.
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Who leads each projection: `alive` is read from the advisory locks (projections/status.ts). */
async function projectorStatus(pool: pg.Pool) {
  return (await getProjectionStatus(pool)).projections;
}

const pidOf = (workerId: string | null) => Number(workerId?.split(':')[1]);

test.describe('several instances on one database', () => {
  test.skip(!!process.env.DATABASE_URL, 'needs the embedded PostgreSQL of this run (no DATABASE_URL)');
  // Starting three web servers and two projectors on a loaded 2-core runner.
  test.describe.configure({ timeout: 240_000 });

  const children: Child[] = [];
  let proxy: Awaited<ReturnType<typeof startProxy>> | null = null;
  let pool: pg.Pool | null = null;
  let db: Db | null = null;
  let database = '';
  let adminUrl = '';

  test.afterAll(async () => {
    await proxy?.close();
    for (const c of children) c.child.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    await pool?.end();
    await db?.$disconnect();
    if (database) {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  });

  test('forms, live feed and projector failover across three web servers and two projectors', async ({ browser }) => {
    const dataDir = path.join(E2E_DATA_DIR, 'postgres');
    const server = runningEmbeddedUrls(dataDir);
    if (!server) throw new Error(`no embedded PostgreSQL is running for ${dataDir}`);
    adminUrl = server.adminUrl;
    database = `multi_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database} OWNER address_ledger_owner`);
    await admin.end();
    const urls = runningEmbeddedUrls(dataDir, database)!;
    await migrate(urls.ownerUrl);
    pool = new pg.Pool({ connectionString: urls.url, max: 4 });
    db = createPrisma(urls.url, { max: 2 });
    await createUser(db, { ...ADMIN, role: 'admin' });
    const { secret } = await createApiToken(db, { name: 'multi-instance', role: 'admin' }, null);

    // The settings every web instance needs (README "Several instances").
    const shared = {
      DATABASE_URL: urls.url,
      NEXT_SERVER_ACTIONS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TRUSTED_PROXIES: '127.0.0.1, ::1',
      SSE_HEARTBEAT_MS: '300',
    };
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    for (const [i, port] of ports.entries()) {
      children.push(run(`web ${i}`, 'scripts/web-server.ts', { ...shared, PORT: String(port) }));
    }
    const projectorEnv = {
      DATABASE_URL: urls.url,
      PROJECTOR_SKIP_MIGRATE: '1',
      PROJECTOR_POLL_MS: '200',
      PROJECTOR_LOCK_RETRY_MS: '200',
      SEAL_KEY_FILE: path.join(os.tmpdir(), `${database}-seal-key.pem`),
    };
    const first = run('projector 1', 'scripts/projector.ts', projectorEnv);
    children.push(first);
    await waitFor(
      'the first projector to lead both projections',
      async () => {
        const rows = await projectorStatus(pool!);
        return rows.length === 2 && rows.every((r) => r.alive && pidOf(r.workerId) === first.child.pid);
      },
      { timeoutMs: 60_000 },
    );
    const second = run('projector 2', 'scripts/projector.ts', projectorEnv);
    children.push(second);
    for (const port of ports) {
      await waitFor(
        `the web instance on ${port} to answer`,
        async () => (await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => null))?.status === 200,
        { timeoutMs: 120_000 },
      ).catch((error) => {
        throw new Error(`${error.message}\n${children.map((c) => `--- ${c.name}\n${c.output()}`).join('\n')}`);
      });
    }
    proxy = await startProxy(ports);

    // A form rendered by one instance, submitted (a server action) through another.
    const context = await browser.newContext({ baseURL: proxy.url });
    const page = await context.newPage();
    await page.goto('/sign-in');
    await page.getByLabel('E-mail address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).not.toHaveURL(/\/sign-in/);
    await page.goto('/addresses/new');
    await expect(page.getByRole('heading', { name: 'Register an address' })).toBeVisible();
    const rendered = proxy.served.findLast((s) => s.document && s.path === '/addresses/new')!;
    await page.getByLabel('Street address').fill('1 Instance Row');
    await page.getByLabel('City / town').fill('Portland');
    await page.getByLabel('Postal code').fill('04101');
    await page.getByLabel('Country').selectOption('US');
    await page.getByLabel('Owner reference').fill('multi-1');
    await page.getByRole('button', { name: 'Register address' }).click();
    await expect(page).toHaveURL(/\/addresses\/[0-9a-f-]{36}\?registered=1/);
    const registeredId = /\/addresses\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await expect(page.getByText('1 Instance Row').first()).toBeVisible();
    const submitted = proxy.served.findLast((s) => s.action)!;
    expect(submitted.upstream).not.toBe(rendered.upstream);
    expect(new Set(proxy.served.map((s) => s.upstream)).size).toBe(INSTANCES);

    // The live feed through the proxy: the event just written, then heartbeats on the idle stream.
    const feed = await fetch(`${proxy.url}/api/events/stream?after=0-0`, {
      headers: { authorization: `Bearer ${secret}`, accept: 'text/event-stream' },
    });
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toContain('text/event-stream');
    const reader = feed.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await waitFor(
      'an event and two heartbeats through the proxy',
      async () => {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        text += decoder.decode(value, { stream: true });
        return text.includes('event: AddressRegistered') && text.split(': keep-alive').length > 2;
      },
      { timeoutMs: 30_000, intervalMs: 1 },
    );
    await reader.cancel();

    // Kill the projector leader: the standby takes over within 5 s.
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await waitFor(
      'the second projector to lead both projections',
      async () => {
        const rows = await projectorStatus(pool!);
        return rows.every((r) => r.alive && pidOf(r.workerId) === second.child.pid);
      },
      { timeoutMs: 5_000 },
    );
    expect(Date.now() - killedAt).toBeLessThanOrEqual(5_000);

    // Writes through the proxy after the handover end up in a read model equal to a replay.
    for (const n of [2, 3, 4]) {
      const response = await fetch(`${proxy.url}/api/addresses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          line1: `${n} Instance Row`,
          city: 'Portland',
          postalCode: '04101',
          country: 'US',
          owner: `multi-${n}`,
        }),
      });
      expect(response.status).toBe(201);
    }
    await waitForProjection(pool, 'address_view', { timeoutMs: 20_000 });
    const replayed = replayAddresses(await allEvents(pool));
    expect(replayed.size).toBe(4);
    expect(await addressViewDocs(pool)).toEqual(replayed);

    // An admin skips a parked address's event from /admin (served by whichever instance), at
    // both widths. The row is written as the projector writes it (projections/parking.ts).
    const [registration] = (await allEvents(pool)).filter((e) => e.streamId === `address-${registeredId}`);
    await pool.query(
      `INSERT INTO parked_streams (projection, stream_id, event_id, event_type, position, stream_version, error)
       VALUES ('address_view', $1, $2, $3, $4, 1, 'UpcastError: staged by e2e/multi-instance.spec.ts')`,
      [registration!.streamId, registration!.eventId, registration!.type, registration!.position],
    );
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto('/admin');
      await expect(page.locator(`tr[data-parked="${registeredId}"]`)).toBeVisible();
      await page.screenshot({ path: test.info().outputPath(`admin-parked-${width}.png`), fullPage: true });
    }
    const row = page.locator(`tr[data-parked="${registeredId}"]`);
    await row.getByRole('button', { name: 'Skip event' }).click();
    await expect(row.getByText('Say why this event may be left out.')).toBeVisible();
    await row.getByLabel('Reason').fill('staged by the multi-instance test');
    await row.getByRole('button', { name: 'Skip event' }).click();
    // The page refreshes and the row goes once the projector resumed the address: check the record.
    await waitFor(
      'the projector to resume the skipped address',
      async () => (await projectorStatus(pool!)).every((p) => p.parked.length === 0),
      { timeoutMs: 20_000 },
    );
    const { rows: decisions } = await pool.query('SELECT reason FROM parked_stream_decisions WHERE stream_id = $1', [
      `address-${registeredId}`,
    ]);
    expect(decisions).toEqual([{ reason: 'staged by the multi-instance test' }]);
    await context.close();
  });
});
