/**
 * The setup every projector spec repeats (int tests only: it uses the test database of vitest's
 * global setup): one database, a ledger on it, a Postgres search index, and projectors started
 * with test timings, stopped after each test.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLedger, type Ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { createPostgresSearchIndex } from '@/projections/search/postgres-search-index';
import type { SearchIndex } from '@/projections/search/search-index';
import { type Projector, type ProjectorOptions, startProjector } from '@/projections/worker';
import { createTestDatabase, type TestDatabase } from '@/test/db';

export interface Testbed {
  readonly db: TestDatabase;
  readonly ledger: Ledger;
  readonly index: SearchIndex;
  start(options?: Partial<ProjectorOptions>): Promise<Projector>;
  /** A projector started some other way (e.g. on another database), stopped with the rest. */
  track(projector: Projector): Projector;
  stopAll(): Promise<void>;
}

export function projectorTestbed(label: string, defaults: Partial<ProjectorOptions> = {}): Testbed {
  let db: TestDatabase | null = null;
  let ledger: Ledger | null = null;
  let index: SearchIndex | null = null;
  const running: Projector[] = [];
  const log = logger.child({ test: label });
  const stopAll = async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    ledger = createLedger(db.prisma);
    index = createPostgresSearchIndex({ connectionString: db.url });
  });
  afterEach(stopAll);
  afterAll(async () => {
    await index?.close();
    await db?.drop();
  });
  return {
    get db() {
      return db!;
    },
    get ledger() {
      return ledger!;
    },
    get index() {
      return index!;
    },
    async start(options = {}) {
      const projector = await startProjector({
        databaseUrl: db!.url,
        searchIndex: index,
        pollMs: 100,
        lockRetryMs: 50,
        backoff: { initialMs: 50, maxMs: 400 },
        log,
        ...defaults,
        ...options,
      });
      running.push(projector);
      return projector;
    },
    track(projector) {
      running.push(projector);
      return projector;
    },
    stopAll,
  };
}
