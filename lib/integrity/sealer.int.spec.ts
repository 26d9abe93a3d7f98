import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '@/lib/ledger';
import { commands, waitFor, waitForProjection } from '@/projections/testing';
import { startProjector } from '@/projections/worker';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { publicKeyText } from './chain';
import { sealAll, sealOnce } from './sealer';
import { verifyLedger } from './verify';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

const privateKey = generateKeyPairSync('ed25519').privateKey;
const key = { privateKey, publicKey: publicKeyText(privateKey) };
const trusted = { keys: [key.publicKey], source: 'signing key' as const };

describe('the sealer', () => {
  it('never seals past a transaction still in flight, so a late commit is sealed in its place', async () => {
    const c = commands(createLedger(db.prisma));
    await c.register({ line1: '1 Early Street' });
    await waitForAllEventsVisible(db.pool);
    const before = await sealAll(db.pool, key);
    expect(before.length).toBeGreaterThan(0);

    // The slow writer takes a position first and commits after a faster one.
    const slow = await db.ownerPool.connect(); // a raw INSERT: the owner's right, not the app's
    try {
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
         VALUES ($1, 1, gen_random_uuid(), 'Slow', 1, '{}', '{}')`,
        [`slow-${randomUUID()}`],
      );
      await c.register({ line1: '2 Fast Street' });
      expect(await sealOnce(db.pool, key)).toBeNull();
      await slow.query('COMMIT');
    } finally {
      slow.release();
    }
    await waitForAllEventsVisible(db.pool);
    const after = await sealAll(db.pool, key);
    expect(after.reduce((n, s) => n + s.added, 0)).toBe(2);
    const report = await verifyLedger(db.pool, { trusted });
    expect(report.problems).toEqual([]);
    expect(report.summary.unsealedEvents).toBe(0);
  });

  it('lets one sealer at a time write the next seal', async () => {
    await commands(createLedger(db.prisma)).register({ line1: '3 Race Road' });
    await waitForAllEventsVisible(db.pool);
    const results = await Promise.all([sealOnce(db.pool, key), sealOnce(db.pool, key), sealOnce(db.pool, key)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const { rows } = await db.pool.query<{ n: number; distinct_seq: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT seq)::int AS distinct_seq FROM event_seals',
    );
    expect(rows[0]!.n).toBe(rows[0]!.distinct_seq);
  });

  it('runs in the projector and seals what is appended', async () => {
    const projector = await startProjector({
      databaseUrl: db.url,
      projections: ['address_view'],
      pollMs: 100,
      sealer: { key, intervalMs: 50 },
    });
    try {
      // Verifying while the sealer writes new seals never reports a false break.
      const c = commands(createLedger(db.prisma));
      for (let i = 0; i < 8; i++) {
        await c.register({ line1: `${i + 4} Sealed Street` });
        const during = await verifyLedger(db.pool, { trusted, pageSize: 3 });
        expect(during.problems).toEqual([]);
      }
      await waitForProjection(db.pool, 'address_view');
      await waitFor('the projector to seal every event', async () => {
        const report = await verifyLedger(db.pool, { trusted });
        return report.ok && report.summary.unsealedEvents === 0 && report.summary.events > 0;
      });
      expect(projector.sealer?.written).toBeGreaterThan(0);
    } finally {
      await projector.stop();
    }
  });
});
