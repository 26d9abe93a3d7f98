/**
 * `npm run projections:rebuild [-- address_view address_search]`: replays every event into fresh
 * copies of the read models while the live ones keep serving, verifies them against the event
 * store, and swaps them in. Safe to run beside a live projector. Progress goes to stderr; the
 * outcome is logged as JSON on stdout.
 */

import cliProgress from 'cli-progress';
import pg from 'pg';
import { tryAdvisoryLock } from '@/lib/advisory-locks';
import { migrationDatabaseUrl, requireDatabaseUrl } from '@/lib/db';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { PROJECTION_NAMES, type ProjectionName } from '@/projections/checkpoints';
import { type RebuildProgress, rebuildProjections } from '@/projections/rebuild';
import { REBUILD_LOCK_NAME } from '@/projections/rebuild-job';
import { createSearchIndex, searchConfigFromEnv } from '@/projections/search/factory';

const log = logger.child({ component: 'rebuild' });

async function main() {
  const databaseUrl = requireDatabaseUrl();
  const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const name of requested) {
    if (!(PROJECTION_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown projection "${name}"; known: ${PROJECTION_NAMES.join(', ')}`);
    }
  }
  await migrate(migrationDatabaseUrl());
  // The same lock as a rebuild started from the admin page: one rebuild at a time, anywhere.
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'rebuild:lock' });
  await lock.connect();
  if (!(await tryAdvisoryLock(lock, REBUILD_LOCK_NAME))) {
    await lock.end();
    throw new Error(
      'another rebuild is running (started from the admin page or another shell); try again when it is done',
    );
  }
  const searchIndex = createSearchIndex(searchConfigFromEnv('write'));

  const bar = new cliProgress.SingleBar(
    {
      format: ' {phase} |{bar}| {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5_000,
      etaBuffer: 20,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let barStarted = false;
  const onProgress = (p: RebuildProgress) => {
    const rate = Math.round(p.processed / Math.max(0.001, (Date.now() - started) / 1000));
    const phase = p.projection ? `${p.phase} ${p.projection}` : p.phase;
    if (!barStarted) {
      bar.start(Math.max(1, p.total), p.processed, { phase, rate });
      barStarted = true;
    }
    bar.setTotal(Math.max(1, p.total));
    bar.update(p.processed, { phase, rate });
    if (p.phase === 'done') bar.stop();
  };

  try {
    // Each projection's report (events, documents, checkpoint, checksum) is logged as it is swapped in.
    await rebuildProjections({
      databaseUrl,
      searchIndex,
      projections: requested.length > 0 ? (requested as ProjectionName[]) : undefined,
      log,
      onProgress,
    });
  } finally {
    if (barStarted) bar.stop();
    await searchIndex.close().catch(() => {});
    await lock.end().catch(() => {});
  }
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    log.fatal(
      { err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) },
      'rebuild failed',
    );
    process.exit(1);
  });
