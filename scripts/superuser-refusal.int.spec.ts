import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProjector } from '@/projections/testing';
import { createTestDatabase, type TestDatabase } from '@/test/db';

/**
 * README "Security": the web server and the projector refuse a superuser connection (a superuser
 * can switch the event log's triggers off), unless ALLOW_SUPERUSER=1 says so, and then they warn.
 */

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const REFUSAL = /refuses to run as the PostgreSQL superuser/;

describe('a superuser DATABASE_URL', () => {
  it('stops npm start before it migrates, builds or serves anything', async () => {
    const empty = await createTestDatabase({ empty: true });
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        env: { ...process.env, DATABASE_URL: empty.superuserUrl, PORT: '3197', LOG_LEVEL: 'info', ALLOW_SUPERUSER: '' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(REFUSAL);
      expect(result.stdout).not.toMatch(/building the app|"process":"web"/);
      const migrated = await empty.ownerPool.query(`SELECT to_regclass('_prisma_migrations')::text AS t`);
      expect(migrated.rows[0].t).toBeNull();
    } finally {
      await empty.drop();
    }
  });

  it('stops the projector', async () => {
    const projector = spawnProjector(t.superuserUrl, { ALLOW_SUPERUSER: '' }, 'node');
    expect(await projector.exited).toBe(1);
    expect(projector.logs.some((l) => REFUSAL.test(JSON.stringify(l)))).toBe(true);
  });

  it('is accepted by the projector with ALLOW_SUPERUSER=1, with a warning', async () => {
    const projector = spawnProjector(t.superuserUrl, { ALLOW_SUPERUSER: '1' }, 'node');
    try {
      await projector.waitForLog('the superuser warning', (l) =>
        /running as a PostgreSQL superuser/.test(String(l.msg)),
      );
      await projector.waitForLog('the worker to start', (l) => l.msg === 'projector process starting');
      expect(projector.logs.find((l) => /running as a PostgreSQL superuser/.test(String(l.msg)))?.level).toBe(40);
    } finally {
      projector.kill('SIGTERM');
      await projector.exited;
    }
  });

  it('is not what the runtime role is: the projector starts on it without a warning', async () => {
    const projector = spawnProjector(t.url, {}, 'node');
    try {
      await projector.waitForLog('the worker to start', (l) => l.msg === 'projector process starting');
      expect(projector.logs.some((l) => /superuser|owner of the event store/.test(String(l.msg)))).toBe(false);
    } finally {
      projector.kill('SIGTERM');
      await projector.exited;
    }
  });
});
