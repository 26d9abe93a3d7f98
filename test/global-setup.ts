import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ensureRoles, OWNER_ROLE, RUNTIME_LOGIN } from '@/lib/database-roles';
import { startEmbeddedPostgres } from '@/lib/embedded-postgres';
import { migrate } from '@/lib/migrate';

export const TEMPLATE_DB = 'address_ledger_test_template';

/**
 * Starts a throwaway PostgreSQL for the integration tier (or uses DATABASE_URL's server, which must
 * be a superuser's), sets up the owner and runtime roles (README "Security"), migrates a template
 * database once as the owner, and hands the three roles' URLs to the test files, which clone the
 * template per file (test/db.ts). It never touches the `.data/` directory that `npm start` uses.
 */
export default async function setup(project: TestProject) {
  let adminUrl: string;
  let ownerUrl: string;
  let runtimeUrl: string;
  let stop = async () => {};
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/postgres';
    adminUrl = url.toString();
    const passwords = { owner: randomBytes(24).toString('base64url'), runtime: randomBytes(24).toString('base64url') };
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await ensureRoles(admin, passwords).finally(() => admin.end());
    const as = (user: string, password: string) => {
      const u = new URL(adminUrl);
      u.username = user;
      u.password = password;
      return u.toString();
    };
    ownerUrl = as(OWNER_ROLE, passwords.owner);
    runtimeUrl = as(RUNTIME_LOGIN, passwords.runtime);
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'address-ledger-test-'));
    // mkdtemp makes it private; as root the server runs as `postgres`, which must be able to enter it.
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), fast: true, database: 'postgres' });
    adminUrl = server.adminUrl;
    ownerUrl = server.ownerUrl;
    runtimeUrl = server.url;
    stop = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB} OWNER ${OWNER_ROLE}`);
  await admin.end();
  const templateUrl = new URL(ownerUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await migrate(templateUrl.toString());

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgOwnerUrl', ownerUrl);
  project.provide('pgRuntimeUrl', runtimeUrl);
  project.provide('pgTemplateDb', TEMPLATE_DB);
  return stop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The superuser, on the `postgres` database. */
    pgAdminUrl: string;
    /** The owner role (migrations), on the `postgres` database: replace the path. */
    pgOwnerUrl: string;
    /** The runtime role (app code), on the `postgres` database: replace the path. */
    pgRuntimeUrl: string;
    pgTemplateDb: string;
  }
}
