import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { advisoryLock, advisoryLockHeld, advisoryUnlock } from '@/lib/advisory-locks';
import { createLedger } from '@/lib/ledger';
import { writeHistory } from '@/projections/testing';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { lastVerification } from './verify';
import { currentVerification, startVerification, VERIFY_LOCK_NAME, verificationStatus } from './verify-job';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  vi.stubEnv('DATABASE_URL', t.url);
  // Never the developer's own key file under .data/.
  vi.stubEnv('SEAL_KEY_FILE', path.join(os.tmpdir(), 'address-ledger-no-such-key.pem'));
  vi.stubEnv('SEAL_PRIVATE_KEY', undefined);
  vi.stubEnv('SEAL_PUBLIC_KEY', undefined);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await t?.drop();
});

describe('"Verify now" (the background verification)', () => {
  it('runs one at a time, records its result with who asked, and releases its lock', async () => {
    await writeHistory(createLedger(t.prisma), 3, 'job');
    await waitForAllEventsVisible(t.pool);
    const admin = { id: 'admin-1', name: 'Ada' };
    const first = await startVerification(admin);
    expect(first.started).toBe(true);
    // A second click while it runs (in this process) is refused, not queued.
    expect(await startVerification(admin)).toEqual({ started: false, reason: 'already-running' });

    const done = await currentVerification();
    expect(done).toMatchObject({ state: 'done', startedBy: admin, report: { ok: true } });
    expect(currentVerification()).toBeNull();
    expect(await advisoryLockHeld(t.pool, VERIFY_LOCK_NAME)).toBe(false);
    expect(await lastVerification(t.pool)).toMatchObject({
      source: 'admin',
      result: 'intact',
      summary: { streams: 3, seals: 0, trustedKey: null },
    });
    expect((await verificationStatus(t.pool)).job).toMatchObject({ state: 'done' });
    const { rows } = await t.pool.query('SELECT started_by FROM integrity_verifications');
    expect(rows).toEqual([{ started_by: 'admin-1' }]);
  });

  it('is refused while another instance holds the lock', async () => {
    const other = await t.pool.connect();
    try {
      await advisoryLock(other, VERIFY_LOCK_NAME);
      expect((await verificationStatus(t.pool)).runningElsewhere).toBe(true);
      expect(await startVerification({ id: 'a', name: 'A' })).toEqual({ started: false, reason: 'already-running' });
      await advisoryUnlock(other, VERIFY_LOCK_NAME);
    } finally {
      other.release();
    }
  });
});
