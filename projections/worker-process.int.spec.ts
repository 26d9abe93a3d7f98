import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compareCursors, decodeCursor } from '@/domain/event-store/cursor';
import { createLedger, type Ledger } from '@/lib/ledger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { replayAddresses } from './address-view/projection';
import { readCheckpoint } from './checkpoints';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import type { SearchIndex } from './search/search-index';
import {
  addressViewDocs,
  allEvents,
  type ChildProjector,
  headCursor,
  spawnProjector,
  waitFor,
  waitForProjection,
  writeHistory,
} from './testing';

// The worker as `npm start` runs it: a separate process (`npx tsx scripts/projector.ts`), killed
// and restarted for real. Each test gets its own database so the processes never share state.

// Each test starts `npx tsx` processes and waits up to a minute for them; on a loaded CI machine
// that took longer than the tier's 30 s default (the test then failed, and its pending wait
// surfaced later as an unhandled error). The waits inside keep their own, clearer bounds.
const PROCESS_TEST_TIMEOUT_MS = 180_000;

let db: TestDatabase;
let ledger: Ledger;
let index: SearchIndex;
const children: ChildProjector[] = [];

function spawn(env: Record<string, string> = {}, via: 'npx' | 'node' = 'npx') {
  const child = spawnProjector(db.url, env, via);
  children.push(child);
  return child;
}

type Log = Record<string, unknown>;
const isLog = (msg: string, projection?: string) => (l: Log) =>
  l.msg === msg && (projection === undefined || l.projection === projection);

beforeAll(async () => {
  db = await createTestDatabase();
  ledger = createLedger(db.prisma);
  index = createPostgresSearchIndex({ connectionString: db.url });
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited;
  }
});
afterAll(async () => {
  await index?.close();
  await db?.drop();
});

async function expectReadModelsEqualReplay() {
  const expected = replayAddresses(await allEvents(db.pool));
  expect(await addressViewDocs(db.pool)).toEqual(expected);
  expect(await index.getDocuments([...expected.keys()])).toEqual(expected);
}

describe('the projector process', () => {
  it(
    'killed with SIGKILL in the middle of a batch, then restarted, ends equal to a full replay',
    async () => {
      await writeHistory(ledger, 80, 'kill');
      const total = (await allEvents(db.pool)).length;

      // Every address_view batch holds its transaction open for a while before committing.
      const first = spawn({ PROJECTOR_BATCH_SIZE: '15', PROJECTOR_FAULT_DELAY_BEFORE_COMMIT_MS: '200' });
      const count = (msg: string) => first.logs.filter(isLog(msg, 'address_view')).length;
      await first.waitUntil('two committed batches', () => count('batch applied') >= 2);
      const appliedBefore = count('batch applied');
      await first.waitUntil('a batch in progress', () => count('applying batch') > appliedBefore);
      // Make sure the batch really is inside its transaction: the projector's connection is open in one.
      await waitFor('the batch transaction', async () => {
        const { rows } = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'projector'
            AND state = 'idle in transaction'`,
        );
        return rows.length > 0;
      });
      const inFlight = first.logs.filter(isLog('applying batch', 'address_view')).at(-1)!;
      first.kill('SIGKILL');
      await first.exited;

      // The batch in flight was rolled back with the connection: the checkpoint stayed at its start.
      const afterKill = await readCheckpoint(db.pool, 'address_view');
      expect(afterKill.cursor).toBe(inFlight.from);
      expect(compareCursors(decodeCursor(afterKill.cursor), decodeCursor(await headCursor(db.pool)))).toBeLessThan(0);

      spawn();
      const done = await waitForProjection(db.pool, 'address_view', { timeoutMs: 60_000 });
      await waitForProjection(db.pool, 'address_search', { timeoutMs: 60_000 });
      // Checkpoint and rows commit together, so every event was applied exactly once in total.
      expect(Number(done.eventsProcessed)).toBe(total);
      await expectReadModelsEqualReplay();
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'started twice at once, processes with one worker only and hands over when that one is killed',
    async () => {
      await writeHistory(ledger, 10, 'two-a');
      const a = spawn({ PROJECTOR_PROJECTIONS: 'address_view' });
      const b = spawn({ PROJECTOR_PROJECTIONS: 'address_view' });
      await waitFor('one active worker and one standby', async () => {
        const active = [a, b].filter((c) => c.logs.some(isLog('active for projection', 'address_view')));
        const standby = [a, b].filter((c) =>
          c.logs.some(isLog('another worker is active; standing by', 'address_view')),
        );
        return active.length === 1 && standby.length === 1;
      });
      const active = a.logs.some(isLog('active for projection')) ? a : b;
      const standby = active === a ? b : a;
      const activeId = active.logs.find(isLog('active for projection'))!.workerId;

      await writeHistory(ledger, 10, 'two-b');
      const cp = await waitForProjection(db.pool, 'address_view');
      expect(cp.workerId).toBe(activeId);
      expect(active.logs.filter(isLog('batch applied')).length).toBeGreaterThan(0);
      expect(standby.logs.filter(isLog('batch applied'))).toEqual([]);

      active.kill('SIGKILL');
      await active.exited;
      await writeHistory(ledger, 10, 'two-c');
      await standby.waitForLog('the standby taking over', isLog('active for projection', 'address_view'));
      const handedOver = await waitForProjection(db.pool, 'address_view', { timeoutMs: 30_000 });
      const standbyId = standby.logs.find(isLog('active for projection'))!.workerId;
      expect(handedOver.workerId).toBe(standbyId);
      expect(standbyId).not.toBe(activeId);
      const expected = replayAddresses(await allEvents(db.pool));
      expect(await addressViewDocs(db.pool)).toEqual(expected);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'on SIGTERM finishes the batch in progress, commits it, and exits with status 0',
    async () => {
      await writeHistory(ledger, 30, 'term');
      // Run directly under node: npx would exit on SIGTERM without waiting for the worker.
      const child = spawn(
        {
          PROJECTOR_PROJECTIONS: 'address_view',
          PROJECTOR_BATCH_SIZE: '10',
          PROJECTOR_FAULT_DELAY_BEFORE_COMMIT_MS: '300',
        },
        'node',
      );
      await child.waitForLog('a batch in progress', isLog('applying batch', 'address_view'));
      const batch = child.logs.find(isLog('applying batch', 'address_view'))!;
      process.kill(child.proc.pid!, 'SIGTERM');
      expect(await child.exited).toBe(0);
      expect(child.logs.some(isLog('projector stopped'))).toBe(true);
      // The batch that was in flight when the signal came was committed, and no further batch began.
      expect((await readCheckpoint(db.pool, 'address_view')).cursor).toBe(batch.to);
      expect(child.logs.filter(isLog('applying batch', 'address_view'))).toHaveLength(1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
