import { requireDatabaseUrl } from '@/lib/db';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';

const result = await migrate(requireDatabaseUrl());
logger.info({ applied: result.applied, alreadyApplied: result.alreadyApplied }, 'migrations up to date');
