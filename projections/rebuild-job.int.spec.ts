import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tryAdvisoryLock } from '@/lib/advisory-locks';
import { createLedger, type Ledger } from '@/lib/ledger';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { waitFor } from '@/test/wait';
import { replayAddresses } from './address-view/projection';
import { readCheckpoint } from './checkpoints';
import {
  currentRebuild,
  REBUILD_LOCK_NAME,
  type RebuildJob,
  rebuildLockHeld,
  rebuildStatus,
  startRebuild,
} from './rebuild-job';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import type { SearchIndex } from './search/search-index';
import { addressViewDocs, allEvents, commands, headCursor, writeHistory } from './testing';

let db: TestDatabase;
let ledger: Ledger;
let index: SearchIndex;
const ADMIN = { id: 'rebuild-job-admin', name: 'Rebuild Job Admin' };
const SEARCH_ENV = [
  'SEARCH_BACKEND',
  'MEILI_URL',
  'MEILI_API_KEY',
  'MEILI_SEARCH_API_KEY',
  'MEILI_INDEX',
  'SEARCH_DATABASE_URL',
] as const;
const savedEnv: Partial<Record<string, string>> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  // The job reads DATABASE_URL (and the search settings) as the app does.
  process.env.DATABASE_URL = db.url;
  for (const key of SEARCH_ENV) {
    savedEnv[key] = process.env[key];
    delete process.env[key];
  }
  ledger = createLedger(db.prisma);
  index = createPostgresSearchIndex({ connectionString: db.url });
  await writeHistory(ledger, 30, 'job');
});
afterEach(async () => {
  // No test leaves a rebuild running behind it.
  await currentRebuild();
});
afterAll(async () => {
  for (const key of SEARCH_ENV) if (savedEnv[key] !== undefined) process.env[key] = savedEnv[key];
  await index?.close();
  await db?.drop();
});

const finished = () =>
  waitFor('the rebuild to finish', async () => {
    const { job } = await rebuildStatus();
    return job && job.state !== 'running' ? job : null;
  });

async function holdLockElsewhere(): Promise<pg.Client> {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  expect(await tryAdvisoryLock(other, REBUILD_LOCK_NAME)).toBe(true);
  return other;
}

describe('the rebuild job started from the admin page', () => {
  it('runs in the background, rebuilds every read model from the events and reports done', async () => {
    await waitForAllEventsVisible(db.pool);
    const started = await startRebuild(ADMIN, { batchSize: 7 });
    expect(started).toMatchObject({ started: true, job: { state: 'running', startedBy: ADMIN } });
    // Returned before the rebuild finished: it runs in the background, holding the lock.
    expect(currentRebuild()).not.toBeNull();
    expect(await rebuildLockHeld(db.pool)).toBe(true);
    expect((await rebuildStatus(db.pool)).runningElsewhere).toBe(false);

    const job = await finished();
    const total = (await allEvents(db.pool)).length;
    expect(job).toMatchObject({
      state: 'done',
      startedBy: ADMIN,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      progress: { phase: 'done', processed: total, total },
    });
    if (job.state !== 'done') throw new Error('unreachable');
    expect(job.reports.map((r) => [r.projection, r.events, r.documents])).toEqual([
      ['address_view', total, 30],
      ['address_search', total, 30],
    ]);

    // The swapped-in read models are exactly a replay of the event store, checkpoints at the head.
    const expected = replayAddresses(await allEvents(db.pool));
    expect(await addressViewDocs(db.pool)).toEqual(expected);
    expect(await index.getDocuments([...expected.keys()])).toEqual(expected);
    const head = await headCursor(db.pool);
    expect((await readCheckpoint(db.pool, 'address_view')).cursor).toBe(head);
    expect((await readCheckpoint(db.pool, 'address_search')).cursor).toBe(head);

    // Finished: the lock is released and nothing is running any more.
    expect(currentRebuild()).toBeNull();
    expect(await rebuildLockHeld(db.pool)).toBe(false);
  });

  it('starts only one rebuild when asked twice at once, and refuses another while it runs', async () => {
    const results = await Promise.all([startRebuild(ADMIN), startRebuild(ADMIN)]);
    expect(results.map((r) => r.started).sort()).toEqual([false, true]);
    expect(results.find((r) => !r.started)).toEqual({ started: false, reason: 'already-running' });
    const running = currentRebuild();
    expect(running).not.toBeNull();
    expect(await startRebuild({ id: 'someone-else', name: 'Someone Else' })).toEqual({
      started: false,
      reason: 'already-running',
    });

    const job = (await running) as RebuildJob;
    expect(job).toMatchObject({ state: 'done', startedBy: ADMIN });
    expect((await rebuildStatus()).job).toMatchObject({ id: job.id, state: 'done' });
  });

  it('is refused while another instance holds the rebuild lock, and starts once it is released', async () => {
    const before = (await rebuildStatus()).job;
    const other = await holdLockElsewhere();
    try {
      expect(await startRebuild(ADMIN)).toEqual({ started: false, reason: 'already-running' });
      expect(currentRebuild()).toBeNull();
      // This process's last job is unchanged; the page learns of the other rebuild from pg_locks.
      expect(await rebuildStatus(db.pool)).toEqual({ job: before, runningElsewhere: true });
    } finally {
      await other.end();
    }
    await waitFor('the other session to release the lock', async () => !(await rebuildLockHeld(db.pool)));
    expect((await rebuildStatus(db.pool)).runningElsewhere).toBe(false);

    // Events written since the last rebuild are picked up by the next one.
    await commands(ledger).register({ line1: '5 After Lock Lane' });
    await waitForAllEventsVisible(db.pool);
    expect(await startRebuild(ADMIN)).toMatchObject({ started: true });
    const job = await finished();
    expect(job).toMatchObject({ state: 'done' });
    expect(await addressViewDocs(db.pool)).toEqual(replayAddresses(await allEvents(db.pool)));
  });

  it('reports a failed rebuild with its error, releases the lock and can be started again', async () => {
    // A search setting the rebuild cannot work with makes it fail before it touches anything.
    process.env.SEARCH_BACKEND = 'meilisearch';
    let started: Awaited<ReturnType<typeof startRebuild>>;
    try {
      started = await startRebuild(ADMIN);
    } finally {
      delete process.env.SEARCH_BACKEND;
    }
    expect(started.started).toBe(true);
    const failed = await finished();
    expect(failed).toMatchObject({ state: 'failed', startedBy: ADMIN, error: expect.stringMatching(/MEILI_URL/) });
    expect(await rebuildLockHeld(db.pool)).toBe(false);
    expect(await addressViewDocs(db.pool)).toEqual(replayAddresses(await allEvents(db.pool)));

    expect(await startRebuild(ADMIN)).toMatchObject({ started: true });
    expect(await finished()).toMatchObject({ state: 'done' });
  });
});
