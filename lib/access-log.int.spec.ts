import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import { accessLog, createAccessLog, trackAccess } from './access-log';
import { runShutdownHooks } from './shutdown';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const actor = { id: 'u-1', name: 'Audrey', role: 'auditor' as const };
const count = async () => (await t.pool.query('SELECT count(*)::int AS n FROM access_log')).rows[0].n as number;

describe('the access log writer', () => {
  it('queues entries without writing, then writes them all in batches on flush (as on shutdown)', async () => {
    // A timer that never fires here: only flush() writes, as when the process is stopping.
    const log = createAccessLog(t.prisma, { flushMs: 3_600_000, maxBatch: 1000 });
    const before = await count();
    const written = Array.from({ length: 450 }, (_, i) =>
      log.record({ actor, action: 'timeline.view', addressId: `a-${i}`, filter: { i }, rowCount: i }),
    );
    expect(log.pending()).toBe(450);
    expect(await count()).toBe(before);
    await log.flush();
    await Promise.all(written);
    expect(log.pending()).toBe(0);
    expect(await count()).toBe(before + 450);
    const { rows } = await t.pool.query(
      `SELECT min(row_count)::int AS lo, max(row_count)::int AS hi, count(DISTINCT address_id)::int AS n
       FROM access_log WHERE action = 'timeline.view'`,
    );
    expect(rows[0]).toEqual({ lo: 0, hi: 449, n: 450 });
  });

  it('writes a full batch at once, without waiting for the timer', async () => {
    const log = createAccessLog(t.prisma, { flushMs: 3_600_000, maxBatch: 10 });
    const before = await count();
    await Promise.all(
      Array.from({ length: 10 }, () => log.record({ actor, action: 'audit.page', filter: {}, rowCount: 1 })),
    );
    expect(await count()).toBe(before + 10);
  });

  it('writes on its timer when nobody flushes', async () => {
    const log = createAccessLog(t.prisma, { flushMs: 10 });
    const before = await count();
    await log.record({ actor, action: 'access.page', filter: {}, rowCount: 0 });
    expect(await count()).toBe(before + 1);
  });
});

describe('the process-wide access log on shutdown', () => {
  it('drains through the shutdown hooks: what is queued and what is recorded afterwards is written at once', async () => {
    process.env.DATABASE_URL = t.url;
    process.env.ACCESS_LOG_FLUSH_MS = '3600000';
    try {
      const before = await count();
      for (let i = 0; i < 3; i++) trackAccess({ actor, action: 'audit.page', filter: { i }, rowCount: i });
      // trackAccess queues on a microtask; the hour-long timer would write nothing here.
      await waitFor('the entries to be queued', async () => accessLog().pending() === 3);
      await runShutdownHooks();
      expect(await count()).toBe(before + 3);
      // An entry that arrives while stopping (an export's stream ending last) is written at once.
      const late = accessLog().record({ actor, action: 'audit.export', filter: {}, rowCount: 9 });
      await late;
      expect(await count()).toBe(before + 4);
    } finally {
      delete process.env.ACCESS_LOG_FLUSH_MS;
    }
  });
});
