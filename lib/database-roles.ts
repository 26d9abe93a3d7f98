import pg from 'pg';
import { logger } from './logger';

/**
 * The database roles of README "Security":
 *   - OWNER_ROLE owns the database and every object in it and runs the migrations;
 *   - RUNTIME_GROUP is a NOLOGIN role holding exactly the grants the web server, the projector and
 *     the CLIs need (every migration grants to it);
 *   - RUNTIME_LOGIN is what those processes log in as: a member of RUNTIME_GROUP, owning nothing,
 *     no superuser, no CREATEROLE/CREATEDB.
 * With DATABASE_URL the operator picks the login roles (README shows the SQL); the embedded
 * PostgreSQL of `npm start` and of the tests uses these names.
 */
export const OWNER_ROLE = 'address_ledger_owner';
export const RUNTIME_GROUP = 'address_ledger_runtime';
export const RUNTIME_LOGIN = 'address_ledger_app';

export interface RolePasswords {
  owner: string;
  runtime: string;
}

const LIMITS = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

/**
 * Creates the three roles if missing and (re)sets their attributes and passwords; run as a
 * superuser. Idempotent, so every start repairs a role someone altered by hand.
 */
export async function ensureRoles(superuser: pg.ClientBase, passwords: RolePasswords): Promise<void> {
  const create = async (role: string, attributes: string) => {
    const { rowCount } = await superuser.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    // Two processes creating the same role at once: the loser's duplicate_object is harmless.
    if (rowCount === 0) await superuser.query(`CREATE ROLE ${role} ${attributes}`).catch(ignoreDuplicate);
    await superuser.query(`ALTER ROLE ${role} ${attributes}`);
  };
  await create(RUNTIME_GROUP, `NOLOGIN ${LIMITS}`);
  await create(OWNER_ROLE, `LOGIN ${LIMITS} PASSWORD ${superuser.escapeLiteral(passwords.owner)}`);
  await create(RUNTIME_LOGIN, `LOGIN ${LIMITS} INHERIT PASSWORD ${superuser.escapeLiteral(passwords.runtime)}`);
  await superuser.query(`GRANT ${RUNTIME_GROUP} TO ${RUNTIME_LOGIN}`);
}

function ignoreDuplicate(error: unknown) {
  const code = (error as { code?: string }).code;
  // 42710 duplicate_object; 23505 when two CREATE ROLEs race on pg_authid's unique index.
  if (code !== '42710' && code !== '23505') throw error;
}

/**
 * Makes OWNER_ROLE own `database` (creating it if missing) and everything in its `public` schema
 * that the superuser still owns: databases made before the roles existed (an old `.data/`) were
 * migrated as the superuser. Extension members stay with their extension.
 */
export async function ensureOwnedDatabase(superuserUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: superuserUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ owner: string }>(
      'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
      [database],
    );
    if (rows.length === 0) {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${OWNER_ROLE}`).catch(ignoreDuplicate);
      return;
    }
    if (rows[0]!.owner !== OWNER_ROLE) {
      await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} OWNER TO ${OWNER_ROLE}`);
    }
  } finally {
    await admin.end();
  }
  // Every start, not only when the database changed hands: a start that stopped between the two
  // steps must not leave objects behind that the owner's next migration cannot alter.
  const url = new URL(superuserUrl);
  url.pathname = `/${database}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    await db.query(`
      DO $$
      DECLARE r RECORD;
      BEGIN
        FOR r IN
          SELECT format('ALTER TABLE %s OWNER TO ${OWNER_ROLE}', c.oid::regclass) AS sql
            FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relowner <> '${OWNER_ROLE}'::regrole
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
             AND NOT EXISTS (SELECT FROM pg_depend d
                              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
          UNION ALL
          SELECT format('ALTER ROUTINE %s OWNER TO ${OWNER_ROLE}', p.oid::regprocedure)
            FROM pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> '${OWNER_ROLE}'::regrole
             AND NOT EXISTS (SELECT FROM pg_depend d
                              WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        LOOP
          EXECUTE r.sql;
        END LOOP;
      END $$`);
  } finally {
    await db.end();
  }
}

export interface ConnectedRole {
  user: string;
  superuser: boolean;
  /** The role owns (or is a member of the owner of) `events`: it could switch the triggers off. */
  ownsEvents: boolean;
}

export async function connectedRole(q: Pick<pg.ClientBase, 'query'>): Promise<ConnectedRole> {
  const { rows } = await q.query<ConnectedRole>(`
    SELECT current_user AS "user",
           current_setting('is_superuser') = 'on' AS superuser,
           coalesce((SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class
                      WHERE oid = to_regclass('public.events')), false) AS "ownsEvents"`);
  return rows[0]!;
}

export class SuperuserRefusedError extends Error {
  constructor(
    readonly processName: string,
    readonly user: string,
  ) {
    super(
      `${processName} refuses to run as the PostgreSQL superuser "${user}": a superuser can switch off the event log's immutability triggers. Point DATABASE_URL at the runtime role (README "Security"), or set ALLOW_SUPERUSER=1 to accept the risk.`,
    );
    this.name = 'SuperuserRefusedError';
  }
}

/**
 * The web server and the projector refuse a superuser connection unless ALLOW_SUPERUSER=1 (then
 * they warn). Running as the owner is allowed but warned about: the database keeps the runtime
 * role, not the owner, from rewriting history.
 */
export async function checkRuntimeRole(
  databaseUrl: string,
  processName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConnectedRole> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'address-ledger:role-check',
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  let role: ConnectedRole;
  try {
    role = await connectedRole(client);
  } finally {
    await client.end().catch(() => {});
  }
  const log = logger.child({ component: 'database-roles' });
  if (role.superuser) {
    if (env.ALLOW_SUPERUSER !== '1') throw new SuperuserRefusedError(processName, role.user);
    log.warn(
      { process: processName, role: role.user },
      'running as a PostgreSQL superuser because ALLOW_SUPERUSER=1: the event log can be rewritten by this process',
    );
  } else if (role.ownsEvents) {
    log.warn(
      { process: processName, role: role.user },
      'DATABASE_URL is the owner of the event store: it can switch off the immutability triggers; use the runtime role (README "Security")',
    );
  }
  return role;
}
