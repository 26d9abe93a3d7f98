import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appendOneRaw, createTestDatabase, migrateBefore, type TestDatabase } from '@/test/db';
import { connectedRole, ensureOwnedDatabase, OWNER_ROLE, RUNTIME_GROUP, RUNTIME_LOGIN } from './database-roles';
import { migrate } from './migrate';

/**
 * README "Security": the runtime role (what the web server, the projector and the CLIs run as)
 * can read the event log and append through append_events, and nothing it can do removes or
 * rewrites history or takes the locks off. `db.pool` is that role; the owner is used only to look.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await appendOneRaw(db.pool, `address-${randomUUID()}`, 'RoleTest');
});
afterAll(async () => db?.drop());

/**
 * Append-only tables, found rather than listed, so a table added later (the access log) is
 * covered: `events`, and every table with a trigger that refuses TRUNCATE or uses the events'
 * refusing trigger function. A trigger that fires on TRUNCATE is no bookkeeping trigger.
 */
async function appendOnlyTables(): Promise<Array<{ table: string; triggers: string[] }>> {
  const { rows } = await db.ownerPool.query<{ table: string; triggers: string[] }>(`
    SELECT c.relname AS "table", array_agg(t.tgname::text ORDER BY t.tgname) AS triggers
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
       AND c.relname IN (SELECT c2.relname FROM pg_trigger t2 JOIN pg_class c2 ON c2.oid = t2.tgrelid
                          WHERE NOT t2.tgisinternal
                            AND ((t2.tgtype & 32) <> 0 OR t2.tgfoid = 'events_refuse_change'::regproc))
     GROUP BY c.relname ORDER BY c.relname`);
  return rows;
}

const count = async (table: string) =>
  (await db.ownerPool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

describe('the runtime role', () => {
  it('is no superuser, cannot create roles or databases, is a member of the runtime group only and owns nothing', async () => {
    const role = await connectedRole(db.pool);
    expect(role).toEqual({ user: RUNTIME_LOGIN, superuser: false, ownsEvents: false });
    const { rows } = await db.pool.query(
      `SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
              ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1) AS member_of
         FROM pg_roles r WHERE rolname = current_user`,
    );
    expect(rows[0]).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
      member_of: [RUNTIME_GROUP],
    });
    const owned = await db.pool.query<{ what: string }>(
      `SELECT 'table ' || relname AS what FROM pg_class WHERE pg_has_role(current_user, relowner, 'USAGE')
       UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pg_has_role(current_user, proowner, 'USAGE')
       UNION ALL SELECT 'schema ' || nspname FROM pg_namespace
                  WHERE pg_has_role(current_user, nspowner, 'USAGE') AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
       UNION ALL SELECT 'type ' || typname FROM pg_type WHERE pg_has_role(current_user, typowner, 'USAGE')
       UNION ALL SELECT 'database ' || datname FROM pg_database WHERE pg_has_role(current_user, datdba, 'USAGE')`,
    );
    expect(owned.rows.map((r) => r.what)).toEqual([]);
  });

  it('finds events among the append-only tables, and the access log if there is one', async () => {
    const tables = (await appendOnlyTables()).map((t) => t.table);
    expect(tables).toContain('events');
    const accessLog = await db.pool.query<{ t: string | null }>("SELECT to_regclass('audit_access_log')::text AS t");
    if (accessLog.rows[0]!.t) expect(tables).toContain('audit_access_log');
  });

  it('cannot UPDATE, DELETE, TRUNCATE, disable the triggers of or drop the triggers of any append-only table', async () => {
    const tables = await appendOnlyTables();
    const attempts: string[] = [];
    for (const { table, triggers } of tables) {
      const before = await count(table);
      const { rows: columns } = await db.ownerPool.query<{ name: string }>(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
          AND attgenerated = '' AND attidentity = '' ORDER BY attnum LIMIT 1`,
        [table],
      );
      const column = columns[0]!.name;
      const statements = [
        `UPDATE ${table} SET ${column} = ${column}`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
        `ALTER TABLE ${table} DISABLE TRIGGER ALL`,
        `ALTER TABLE ${table} DISABLE TRIGGER USER`,
        `ALTER TABLE ${table} OWNER TO ${RUNTIME_LOGIN}`,
        ...triggers.map((trigger) => `DROP TRIGGER ${trigger} ON ${table}`),
        ...triggers.map((trigger) => `ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`),
      ];
      for (const sql of statements) {
        attempts.push(sql);
        await expect(db.pool.query(sql), sql).rejects.toThrow(/permission denied|must be (the )?owner/);
      }
      const { rows: privileges } = await db.pool.query(
        `SELECT has_table_privilege($1, 'UPDATE') AS u, has_table_privilege($1, 'DELETE') AS d,
                has_table_privilege($1, 'TRUNCATE') AS t, has_table_privilege($1, 'TRIGGER') AS tr`,
        [table],
      );
      expect(privileges[0], table).toEqual({ u: false, d: false, t: false, tr: false });
      expect(await count(table), table).toBe(before);
    }
    expect(attempts.length).toBeGreaterThanOrEqual(9);
  });

  it('cannot insert into events except through append_events', async () => {
    const before = await count('events');
    await expect(
      db.pool.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
         VALUES ('forged', 1, gen_random_uuid(), 'Forged', 1, '{}', '{}')`,
      ),
    ).rejects.toThrow(/permission denied for table events/);
    await expect(db.pool.query(`INSERT INTO processed_commands VALUES ('c', 'h', 's', '{}')`)).rejects.toThrow(
      /permission denied/,
    );
    expect(await count('events')).toBe(before);
    await appendOneRaw(db.pool, `address-${randomUUID()}`, 'RoleTest');
    expect(await count('events')).toBe(before + 1);
  });

  it.each([
    ['SET session_replication_role = replica', 'SET session_replication_role = replica'],
    ['SET LOCAL session_replication_role', 'BEGIN; SET LOCAL session_replication_role = replica; COMMIT'],
    ['CREATE FUNCTION in public', 'CREATE FUNCTION public.evil() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'],
    ['CREATE FUNCTION unqualified', 'CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'],
    ['CREATE TABLE in public', 'CREATE TABLE public.evil (id int)'],
    ['CREATE SCHEMA', 'CREATE SCHEMA evil'],
    ['ALTER FUNCTION append_events SECURITY INVOKER', 'ALTER FUNCTION append_events SECURITY INVOKER'],
    ['ALTER FUNCTION append_events RESET search_path', 'ALTER FUNCTION append_events RESET search_path'],
    ['ALTER FUNCTION append_events OWNER TO', `ALTER FUNCTION append_events OWNER TO ${RUNTIME_LOGIN}`],
    ['ALTER FUNCTION append_events RENAME', 'ALTER FUNCTION append_events RENAME TO append_events_old'],
    [
      'CREATE OR REPLACE FUNCTION append_events',
      `CREATE OR REPLACE FUNCTION append_events(TEXT, INTEGER, JSONB, TEXT, TEXT, TEXT)
         RETURNS TABLE (outcome TEXT, version INTEGER, "position" TEXT, stored_result JSONB, stored_hash TEXT)
         LANGUAGE sql AS $$ SELECT 'appended', 1, '1', NULL::jsonb, NULL $$`,
    ],
    ['DROP FUNCTION append_events', 'DROP FUNCTION append_events'],
    ['CREATE ROLE', 'CREATE ROLE evil LOGIN SUPERUSER'],
    ['CREATE DATABASE', 'CREATE DATABASE evil'],
    ['ALTER ROLE itself SUPERUSER', `ALTER ROLE ${RUNTIME_LOGIN} SUPERUSER`],
    ['SET ROLE to the owner', `SET ROLE ${OWNER_ROLE}`],
    ['GRANT itself the owner role', `GRANT ${OWNER_ROLE} TO ${RUNTIME_LOGIN}`],
    ['a rebuild copy of events', "SELECT read_model_copy_create('events')"],
    ['a rebuild swap of events', "SELECT read_model_copy_swap('events')"],
    ['settling events as a read model', "SELECT read_model_settle('events')"],
    ['settling a copy of events as a read model', "SELECT read_model_settle('events_rebuild')"],
    ['registering events as a read model', "INSERT INTO read_model_tables (name) VALUES ('events')"],
  ])('is refused: %s', async (_, sql) => {
    const client = await db.pool.connect();
    try {
      await expect(client.query(sql)).rejects.toThrow(
        /permission denied|must be (the )?owner|must be member|not a registered read model|must have admin option/,
      );
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      client.release(true);
    }
    const schema = await db.ownerPool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'evil' OR proname = 'append_events_old'`,
    );
    expect(schema.rows[0]!.n).toBe(0);
  });

  it('cannot point append_events at a table of its own: the function resolves names in public, never pg_temp', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('CREATE TEMP TABLE events (LIKE public.events)');
      await client.query('CREATE TEMP TABLE processed_commands (LIKE public.processed_commands)');
      const streamId = `address-${randomUUID()}`;
      await appendOneRaw(client, streamId, 'RoleTest');
      const temp = await client.query('SELECT count(*)::int AS n FROM pg_temp.events');
      expect(temp.rows[0].n).toBe(0);
      const real = await db.ownerPool.query('SELECT count(*)::int AS n FROM public.events WHERE stream_id = $1', [
        streamId,
      ]);
      expect(real.rows[0].n).toBe(1);
    } finally {
      client.release(true);
    }
  });
});

describe('the schema', () => {
  it('is owned by the owner role, which is no superuser either', async () => {
    const { rows } = await db.ownerPool.query(
      `SELECT current_user AS "user", (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,
              (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.events'::regclass) AS events_owner,
              (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS database_owner`,
    );
    expect(rows[0]).toEqual({ user: OWNER_ROLE, super: false, events_owner: OWNER_ROLE, database_owner: OWNER_ROLE });
    // Not even the owner can switch the triggers off for a session: that takes a superuser, whom
    // only tamper evidence can catch (README "Security").
    await expect(db.ownerPool.query('SET session_replication_role = replica')).rejects.toThrow(/permission denied/);
  });

  it('pins the search_path of every SECURITY DEFINER function, and append_events is one, owned by the owner', async () => {
    const { rows } = await db.ownerPool.query<{ name: string; owner: string; config: string[] | null }>(
      `SELECT p.oid::regprocedure::text AS name, pg_get_userbyid(p.proowner) AS owner, p.proconfig AS config
         FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef ORDER BY 1`,
    );
    const names = rows.map((r) => r.name);
    expect(names.some((n) => n.startsWith('append_events('))).toBe(true);
    for (const row of rows) {
      expect(row.owner, row.name).toBe(OWNER_ROLE);
      // Only schemas the runtime role cannot create in, and pg_temp named last: unnamed, pg_temp
      // would be searched first and a caller's temporary table could stand in for a real one.
      const path = (row.config ?? []).find((c) => c.startsWith('search_path='));
      const schemas = path
        ?.slice('search_path='.length)
        .split(',')
        .map((x) => x.trim().replace(/^"|"$/g, ''));
      expect(schemas?.at(-1), `${row.name}: ${path}`).toBe('pg_temp');
      expect(
        schemas?.slice(0, -1).every((x) => x === 'pg_catalog' || x === 'public'),
        `${row.name}: ${path}`,
      ).toBe(true);
    }
  });

  it('grants nothing to PUBLIC on tables, and no function that writes events to PUBLIC', async () => {
    const { rows } = await db.ownerPool.query<{ what: string }>(
      `SELECT 'table ' || c.relname AS what FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = 0
       UNION ALL
       SELECT 'function ' || p.proname FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef AND a.grantee = 0`,
    );
    expect(rows.map((r) => r.what)).toEqual([]);
  });
});

describe('a database from before the roles (an old .data/, migrated as the superuser)', () => {
  it('is handed to the owner at start, and then takes the least-privilege migration', async () => {
    const legacy = await createTestDatabase({ empty: true });
    try {
      const name = new URL(legacy.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
      await admin.connect();
      await admin.query(`ALTER DATABASE ${name} OWNER TO current_user`).finally(() => admin.end());
      // The migrations of the release before the roles, applied the way it applied them.
      await migrateBefore(legacy.superuserUrl, '20261201010000');
      await expect(migrate(legacy.ownerUrl)).rejects.toThrow(/needs the owner role|must be owner/);

      await ensureOwnedDatabase(inject('pgAdminUrl'), name);
      const result = await migrate(legacy.ownerUrl);
      expect(result.applied).toContain('20261201010000_least_privilege');
      const { rows } = await legacy.ownerPool.query<{ owner: string; n: number }>(
        `SELECT pg_get_userbyid(relowner) AS owner, count(*)::int AS n FROM pg_class
          WHERE relnamespace = 'public'::regnamespace GROUP BY 1`,
      );
      expect(rows).toEqual([{ owner: OWNER_ROLE, n: expect.any(Number) }]);
      await appendOneRaw(legacy.pool, `address-${randomUUID()}`, 'RoleTest');
      await expect(legacy.pool.query('DELETE FROM events')).rejects.toThrow(/permission denied/);
    } finally {
      await legacy.drop();
    }
  });
});
