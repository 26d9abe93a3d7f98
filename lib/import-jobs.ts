import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type pg from 'pg';
import type { Actor } from '@/domain/messages';
import type { Queryable } from '@/projections/pg';
import { advisoryLockHeld, holdAdvisoryLock } from './advisory-locks';
import type { Db } from './db';
import type { ImportRejection, ImportSummary } from './import-addresses';
import { checkWholeCsvFile, importCsvFile, reportHeader, reportReasons, reportRecord } from './import-csv';
import { createLedger } from './ledger';
import { logger } from './logger';

/*
 * Uploads on /import: `npm run import`'s core (lib/import-csv.ts: the same checks of the file, the
 * same validation, domain rules and batches) run in the background of the web server process, so
 * the run goes on when the page is closed. Its state is the `imports` row (status, counters, the
 * report's header) and its rejected rows are `import_rejections`, so every app instance shows the
 * progress and serves the report. One run at a time per source: a session advisory lock, held by
 * the run's own connection (released when it ends or its process dies), and a partial unique index
 * on running rows as the backstop. A row left `running` by a process that died is closed as failed
 * by the next upload of its source, and shown as interrupted meanwhile.
 */

/** The largest upload /import takes (the CLI takes any size). */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Where uploads wait for their run (deleted when it ends): IMPORT_UPLOAD_DIR, else the system temp dir. */
export const uploadDir = () => process.env.IMPORT_UPLOAD_DIR || path.join(os.tmpdir(), 'address-ledger-uploads');

export type ImportStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface ImportRun {
  id: string;
  source: string;
  fileName: string;
  fileBytes: number;
  status: ImportStatus;
  startedBy: { id: string; name: string };
  correlationId: string;
  bytesRead: number;
  summary: ImportSummary;
  error: string | null;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** Another run of the same source has not finished. */
export class ImportBusyError extends Error {
  override readonly name = 'ImportBusyError';
  constructor(
    readonly source: string,
    readonly runningId: string | null,
  ) {
    super(
      `an import of source "${source}" is running${runningId ? ` (${runningId})` : ''}; ` +
        'wait until it finishes, or upload under another source name',
    );
  }
}

export const importLockName = (source: string) => `ledger-import:${source}`;

const INTERRUPTED =
  'interrupted: the server stopped during the run; upload the file again to finish it ' +
  '(rows it imported are recognised and not registered twice)';

// The runs this process is doing, so tests (and a shutdown) can wait for one to end.
const globalForImports = globalThis as unknown as { __ledgerImportRuns?: Map<string, Promise<void>> };
const runs = () => {
  globalForImports.__ledgerImportRuns ??= new Map();
  return globalForImports.__ledgerImportRuns;
};

/** Resolves when this process's run `id` has ended (at once if it runs elsewhere or is over). */
export async function importRunEnded(id: string): Promise<void> {
  await runs().get(id);
}

/** Resolves when every run this process has started so far has ended. */
export async function importRunsEnded(): Promise<void> {
  await Promise.all(runs().values());
}

const log = logger.child({ component: 'import-job' });
const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export interface StartImportInput {
  db: Db;
  databaseUrl: string;
  /** The uploaded file, on disk; the run owns it and deletes it when it ends (or is refused). */
  file: string;
  fileName: string;
  source: string;
  actor: Actor;
}

/**
 * Checks the whole file (lib/import-csv.ts `checkWholeCsvFile`: empty, not UTF-8, binary, no address
 * columns are refused with an ImportFileError, before anything is written), claims the source
 * (ImportBusyError while another run of it goes on), records the run and starts it; returns the
 * new run at once.
 */
export async function startImport(input: StartImportInput): Promise<ImportRun> {
  const { db, databaseUrl, file, source, actor } = input;
  let lock: pg.Client | null = null;
  try {
    await checkWholeCsvFile(file);
    const totalBytes = (await stat(file)).size;
    lock = await holdAdvisoryLock(databaseUrl, importLockName(source), (error) =>
      log.warn({ err: errorMessage(error), source }, 'import lock connection lost'),
    );
    if (!lock) {
      const running = await db.import.findFirst({ where: { source, status: 'running' }, select: { id: true } });
      throw new ImportBusyError(source, running?.id ?? null);
    }
    // Holding the lock, no run of this source is alive anywhere: a `running` row is a dead one's.
    await db.import.updateMany({
      where: { source, status: 'running' },
      data: { status: 'failed', error: INTERRUPTED, finishedAt: new Date(), updatedAt: new Date() },
    });
    const id = randomUUID();
    const row = await db.import.create({
      data: {
        id,
        source,
        fileName: input.fileName,
        fileBytes: BigInt(totalBytes),
        status: 'running',
        startedById: actor.id,
        startedByName: actor.name,
        correlationId: `import-run:${id}`,
      },
    });
    const heldLock = lock;
    lock = null;
    const promise = run(input, row.id, row.correlationId, heldLock).finally(() => runs().delete(row.id));
    runs().set(row.id, promise);
    return toRun(row, 'running');
  } catch (error) {
    await lock?.end().catch(() => {});
    await rm(file, { force: true });
    throw error;
  }
}

async function run(input: StartImportInput, id: string, correlationId: string, lock: pg.Client): Promise<void> {
  const { db, file, source, actor } = input;
  const runLog = log.child({ importId: id, source, actorId: actor.id });
  runLog.info('import started');
  // Progress and rejected rows are written in order, one step per batch the core reports.
  let writes: Promise<unknown> = Promise.resolve();
  let rejections: ImportRejection[] = [];
  // Awaited by the import: the rejected rows held here are at most a batch's worth.
  const save = (progress: { bytesRead: number; summary: Readonly<ImportSummary> }): Promise<void> => {
    const batch = rejections;
    rejections = [];
    const counters = { ...progress.summary };
    writes = writes.then(() =>
      db.$transaction([
        db.importRejection.createMany({
          data: batch.map((r) => ({
            importId: id,
            rowNumber: r.row ?? 0,
            reasons: reportReasons(r.reasons),
            raw: r.raw ?? {},
          })),
        }),
        db.import.update({
          where: { id },
          data: { ...counters, bytesRead: BigInt(progress.bytesRead), updatedAt: new Date() },
        }),
      ]),
    );
    return writes.then(() => {});
  };
  try {
    const summary = await importCsvFile(createLedger(db), file, {
      source,
      actor,
      correlationId,
      onHeader: (header) => {
        writes = writes.then(() => db.import.update({ where: { id }, data: { header: [...header] } }));
      },
      onReported: (row) => {
        rejections.push(row);
      },
      onProgress: save,
    });
    await writes;
    await db.import.update({
      where: { id },
      data: { ...summary, status: 'done', finishedAt: new Date(), updatedAt: new Date() },
    });
    runLog.info({ ...summary }, 'import finished');
  } catch (error) {
    const message = errorMessage(error);
    runLog.error({ err: message }, 'import failed');
    await writes.catch(() => {});
    await db.import
      .update({
        where: { id },
        data: { status: 'failed', error: message, finishedAt: new Date(), updatedAt: new Date() },
      })
      .catch((e) => runLog.error({ err: errorMessage(e) }, 'could not record the failed import'));
  } finally {
    await rm(file, { force: true });
    await lock.end().catch(() => {});
  }
}

type ImportRow = NonNullable<Awaited<ReturnType<Db['import']['findUnique']>>>;

function toRun(row: ImportRow, status: ImportStatus): ImportRun {
  return {
    id: row.id,
    source: row.source,
    fileName: row.fileName,
    fileBytes: Number(row.fileBytes),
    status,
    startedBy: { id: row.startedById, name: row.startedByName },
    correlationId: row.correlationId,
    bytesRead: Number(row.bytesRead),
    summary: {
      rows: row.rows,
      registered: row.registered,
      unchanged: row.unchanged,
      duplicates: row.duplicates,
      rejected: row.rejected,
    },
    error: row.error,
    startedAt: row.startedAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** advisoryLockHeld reads pg_locks through a pg-style `query`; here through the Prisma client. */
const queryable = (db: Db): Queryable =>
  ({
    query: async (text: string, values: unknown[] = []) => ({ rows: await db.$queryRawUnsafe(text, ...values) }),
  }) as unknown as Queryable;

/** A `running` row whose source lock nobody holds belongs to a process that died. */
async function withLiveStatus(db: Db, row: ImportRow): Promise<ImportRun> {
  if (row.status !== 'running') return toRun(row, row.status as ImportStatus);
  const alive = runs().has(row.id) || (await advisoryLockHeld(queryable(db), importLockName(row.source)));
  return alive ? toRun(row, 'running') : { ...toRun(row, 'interrupted'), error: INTERRUPTED };
}

export async function findImport(db: Db, id: string): Promise<ImportRun | null> {
  const row = await db.import.findUnique({ where: { id } });
  return row ? withLiveStatus(db, row) : null;
}

/** The newest runs, newest first. */
export async function recentImports(db: Db, limit = 20): Promise<ImportRun[]> {
  const rows = await db.import.findMany({ orderBy: { startedAt: 'desc' }, take: limit });
  return Promise.all(rows.map((row) => withLiveStatus(db, row)));
}

/**
 * The run's report of rejected rows as CSV, the same layout as `npm run import --report`
 * (lib/import-csv.ts): row, reasons, then the file's own columns. Read in pages of 1,000, so
 * memory stays flat however many rows were rejected. Null when there is no such run.
 */
export async function importReportCsv(db: Db, id: string): Promise<AsyncGenerator<Buffer> | null> {
  const run = await db.import.findUnique({ where: { id }, select: { header: true } });
  if (!run) return null;
  const header = run.header as string[];
  return (async function* () {
    yield Buffer.from(stringify([reportHeader(header)]));
    for (let after = -1; ; ) {
      const page = await db.importRejection.findMany({
        where: { importId: id, rowNumber: { gt: after } },
        orderBy: { rowNumber: 'asc' },
        take: 1000,
      });
      if (page.length > 0) {
        const records = page.map((r) => reportRecord(header, r.rowNumber, r.reasons, r.raw as Record<string, string>));
        yield Buffer.from(stringify(records));
      }
      if (page.length < 1000) return;
      after = page.at(-1)!.rowNumber;
    }
  })();
}
