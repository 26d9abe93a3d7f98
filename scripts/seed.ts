/**
 * `npm run seed`: imports the shipped sample of real Maine and New Hampshire addresses
 * (© OpenStreetMap contributors, ODbL 1.0; projections/search/fixtures/) as demo data, through
 * the command handler with a progress bar. Running it again appends nothing.
 * Database: DATABASE_URL, or the embedded one of `npm start` (running or not).
 */
import cliProgress from 'cli-progress';
import { createPrisma } from '@/lib/db';
import { openLocalDatabase } from '@/lib/embedded-postgres';
import { importAddresses } from '@/lib/import-addresses';
import { createLedger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { readSample, sampleAddressFields } from '@/projections/search/fixtures/sample';

async function main() {
  const database = await openLocalDatabase();
  const db = createPrisma(database.url, { max: 6 });
  await migrate(database.migrationUrl);
  const rows = readSample();
  const bar = new cliProgress.SingleBar(
    { format: ' seed |{bar}| {value}/{total} addresses | ETA {eta_formatted}', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(rows.length, 0);
  const report = await importAddresses(
    createLedger(db),
    rows.map((row) => ({ key: row.id, fields: sampleAddressFields(row) })),
    {
      source: 'osm-sample',
      actor: { id: 'system:seed', name: 'Demo data (OpenStreetMap sample)', role: 'system' },
      onProgress: (done) => bar.update(done),
    },
  );
  bar.stop();
  logger.info(
    {
      registered: report.registered,
      unchanged: report.unchanged,
      duplicates: report.duplicates.length,
      rejected: report.rejected.length,
    },
    'demo data imported',
  );
  // Not failures: each is in the register already, as the address named.
  for (const d of report.duplicates.slice(0, 10)) {
    logger.info({ row: d.key, existingAddressId: d.addressId }, 'row is already registered as another address');
  }
  for (const r of report.rejected.slice(0, 10)) logger.warn({ row: r.key, issues: r.issues }, 'row not imported');
  await db.$disconnect();
  await database.close();
}

// An explicit exit: open pools and timers must not keep a finished command alive.
main().then(
  () => process.exit(0),
  (error) => {
    logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'seed failed');
    process.exit(1);
  },
);
