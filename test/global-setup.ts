import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { migrate } from '@/lib/migrate';

export const TEMPLATE_DB = 'address_ledger_test_template';

/**
 * Starts a throwaway PostgreSQL for the integration tier (or uses DATABASE_URL's server), migrates
 * a template database once, and hands the admin URL to the test files, which clone the template
 * per file (test/db.ts). It never touches the `.data/` directory that `npm start` uses.
 */
export default async function setup(project: TestProject) {
  let adminUrl: string;
  let stop = async () => {};
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/postgres';
    adminUrl = url.toString();
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-test-'));
    // mkdtemp makes it private; as root the server runs as `postgres`, which must be able to enter it.
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), fast: true, database: 'postgres' });
    adminUrl = server.adminUrl;
    stop = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await migrate(templateUrl.toString());

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplateDb', TEMPLATE_DB);
  return stop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplateDb: string;
  }
}
