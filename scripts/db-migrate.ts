/**
 * `npm run db:migrate`: applies the migrations as the owner role: MIGRATION_DATABASE_URL, else
 * DATABASE_URL, else the embedded PostgreSQL of `npm start` (README "Security").
 */
import { openLocalDatabase } from '@/lib/embedded-postgres';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';

const database = await openLocalDatabase();
try {
  const result = await migrate(database.migrationUrl);
  logger.info({ applied: result.applied, alreadyApplied: result.alreadyApplied }, 'migrations up to date');
} finally {
  await database.close();
}
