import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { createAccessLog } from './access-log';

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
