/**
 * The projector worker (`npm run projector`; `npm start` runs it beside the web server). Reads
 * DATABASE_URL and the search settings from the environment (see projections/README.md), logs
 * JSON lines, and on SIGTERM/SIGINT finishes the batch in progress and exits 0.
 */
import { checkRuntimeRole } from '@/lib/database-roles';
import { migrationDatabaseUrl, requireDatabaseUrl } from '@/lib/db';
import { keyFingerprint } from '@/lib/integrity/chain';
import { loadSealKey, sealKeyFile } from '@/lib/integrity/seal-key';
import { logger, redactUrl } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { PROJECTION_NAMES, type ProjectionName } from '@/projections/checkpoints';
import { createSearchIndex, searchConfigFromEnv } from '@/projections/search/factory';
import { DEFAULTS, startProjector } from '@/projections/worker';

const log = logger.child({ component: 'projector' });

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

async function main() {
  const databaseUrl = requireDatabaseUrl();
  const only = process.env.PROJECTOR_PROJECTIONS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only ?? []) {
    if (!(PROJECTION_NAMES as readonly string[]).includes(name)) throw new Error(`unknown projection ${name}`);
  }
  await checkRuntimeRole(databaseUrl, 'projector');
  if (process.env.PROJECTOR_SKIP_MIGRATE !== '1') await migrate(migrationDatabaseUrl());
  const config = searchConfigFromEnv('write');
  const faultDelay = intEnv('PROJECTOR_FAULT_DELAY_BEFORE_COMMIT_MS', 0);

  log.info(
    { database: redactUrl(databaseUrl), search: config.backend, pid: process.pid },
    'projector process starting',
  );
  const searchIndex = createSearchIndex(config);
  // Generated into the data directory on first start unless SEAL_PRIVATE_KEY or SEAL_KEY_FILE says otherwise.
  const sealKey = loadSealKey({ create: true })!;
  log.info(
    { key: keyFingerprint(sealKey.publicKey), file: process.env.SEAL_PRIVATE_KEY ? null : sealKeyFile() },
    'sealing the event log',
  );
  const projector = await startProjector({
    databaseUrl,
    searchIndex,
    projections: only as ProjectionName[] | undefined,
    batchSize: intEnv('PROJECTOR_BATCH_SIZE', DEFAULTS.batchSize),
    // PROJECTOR_BATCH_SIZE alone fixes the size (as before); PROJECTOR_MAX_BATCH_SIZE lets batches grow while behind.
    maxBatchSize: intEnv(
      'PROJECTOR_MAX_BATCH_SIZE',
      process.env.PROJECTOR_BATCH_SIZE ? intEnv('PROJECTOR_BATCH_SIZE', DEFAULTS.batchSize) : DEFAULTS.maxBatchSize,
    ),
    pollMs: intEnv('PROJECTOR_POLL_MS', DEFAULTS.pollMs),
    lockRetryMs: intEnv('PROJECTOR_LOCK_RETRY_MS', DEFAULTS.lockRetryMs),
    completeness: {
      checkMs: intEnv('PROJECTOR_COMPLETENESS_CHECK_MS', DEFAULTS.completeness.checkMs),
      fullEveryMs: intEnv('PROJECTOR_COMPLETENESS_FULL_MS', DEFAULTS.completeness.fullEveryMs),
    },
    sealer: { key: sealKey, intervalMs: intEnv('SEAL_INTERVAL_MS', DEFAULTS.sealIntervalMs) },
    log,
    // Fault injection for the crash tests only: holds each address_view batch open before commit
    // so a test can kill the process while a transaction is in flight.
    hooks: faultDelay > 0 ? { beforeCommit: () => new Promise((r) => setTimeout(r, faultDelay)) } : {},
  });

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // A process group signal reaches us more than once (npm, tsx and node all get it): stop once.
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutdown requested');
    void projector.stop();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await projector.done;
  await projector.stop();
  await searchIndex.close().catch(() => {});
  process.exit(0);
}

main().catch((error) => {
  log.fatal(
    { err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) },
    'projector failed',
  );
  process.exit(1);
});
