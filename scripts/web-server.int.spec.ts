import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '@/lib/auth/tokens';
import { createUser } from '@/lib/auth/users';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import { needsBuild, nextBin } from './build-freshness';

/*
 * README "Audit log", access trail: a clean shutdown loses no record. The web server of
 * `npm start` (scripts/web-server.ts, on the production build) serves a few audited reads, gets
 * SIGTERM straight away, and every read must be in access_log afterwards. The batch timer is set
 * to a minute (ACCESS_LOG_FLUSH_MS), so only the shutdown's own flush can have written them.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
let t: TestDatabase;
let token: string;

beforeAll(async () => {
  // The production build the server runs; CI's guard step has built it already.
  if (needsBuild(ROOT)) {
    const built = spawnSync(process.execPath, [nextBin(ROOT), 'build'], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (built.status !== 0) throw new Error(`next build failed:\n${built.stdout}\n${built.stderr}`);
  }
  t = await createTestDatabase();
  await createUser(t.prisma, {
    email: 'first@shutdown.test',
    name: 'First',
    role: 'admin',
    password: 'shutdown pass 1',
  });
  token = (await createApiToken(t.prisma, { name: 'shutdown-auditor', role: 'auditor' }, null)).secret;
}, 660_000);
afterAll(async () => t?.drop());

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startWebServer(port: number): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/web-server.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      PORT: String(port),
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ACCESS_LOG_FLUSH_MS: '60000',
    },
  });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  proc.stderr!.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => output, exited };
}

describe('the web server of npm start', () => {
  it('writes every queued access-log record before it exits on SIGTERM', async () => {
    const port = await freePort();
    const server = startWebServer(port);
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the web server to answer', async () => (await fetch(`${base}/api/health`)).ok, {
        timeoutMs: 60_000,
      });
      const auth = { authorization: `Bearer ${token}` };
      const requestIds: string[] = [];
      for (const [i, url] of [
        '/api/audit?limit=5',
        '/api/audit?q=type:AddressRegistered',
        '/api/audit/export?format=ndjson',
      ].entries()) {
        const requestId = `shutdown-${i}-${Date.now()}`;
        const res = await fetch(`${base}${url}`, { headers: { ...auth, 'x-request-id': requestId } });
        expect(res.status, await res.clone().text()).toBe(200);
        await res.text();
        requestIds.push(requestId);
      }
      server.proc.kill('SIGTERM');
      expect(await server.exited, server.output()).toBe(0);

      const { rows } = await t.pool.query<{ request_id: string; action: string }>(
        'SELECT request_id, action FROM access_log WHERE request_id = ANY($1) ORDER BY id',
        [requestIds],
      );
      expect(rows.map((r) => [r.request_id, r.action]).sort()).toEqual(
        [
          [requestIds[0], 'audit.page'],
          [requestIds[1], 'audit.page'],
          [requestIds[2], 'audit.export'],
        ].sort(),
      );
    } finally {
      server.proc.kill('SIGKILL');
    }
  }, 120_000);
});
