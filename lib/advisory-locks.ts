import pg from 'pg';

/**
 * Every advisory lock of the app, in one place. A lock is named by a text the database hashes to
 * 64 bits (`hashtextextended(name, 0)`), so two features can only collide by choosing the same
 * name. Session locks live as long as their connection (so a dead process releases them at once);
 * transaction locks until commit or rollback.
 */

/** Anything that runs a query: a pool, a client, or a client inside a transaction. */
type Queryable = Pick<pg.Pool, 'query'> | pg.ClientBase;

/** The 64-bit key of the lock named by the SQL text expression `name`. */
export const lockKeySql = (name: string) => `hashtextextended(${name}, 0)`;

const KEY = lockKeySql('$1');

/** Takes the session lock if no one holds it; true when this connection now holds it. */
export async function tryAdvisoryLock(q: Queryable, name: string): Promise<boolean> {
  const { rows } = await q.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [name]);
  return rows[0]?.ok ?? false;
}

/** Waits for the session lock. */
export async function advisoryLock(q: Queryable, name: string): Promise<void> {
  await q.query(`SELECT pg_advisory_lock(${KEY})`, [name]);
}

export async function advisoryUnlock(q: Queryable, name: string): Promise<void> {
  await q.query(`SELECT pg_advisory_unlock(${KEY})`, [name]);
}

/** Releases every session lock this connection holds. */
export async function advisoryUnlockAll(q: Queryable): Promise<void> {
  await q.query('SELECT pg_advisory_unlock_all()');
}

/** Takes the lock until the surrounding transaction ends, if no one holds it. */
export async function tryAdvisoryXactLock(q: Queryable, name: string): Promise<boolean> {
  const { rows } = await q.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${KEY}) AS ok`, [name]);
  return rows[0]?.ok ?? false;
}

/** The SQL of a transaction lock for callers that run SQL through Prisma (`$executeRawUnsafe(sql, name)`). */
export const ADVISORY_XACT_LOCK_SQL = `SELECT 1 AS locked FROM pg_advisory_xact_lock(${KEY})`;

/**
 * SQL that is true while anyone holds the session lock whose 64-bit key is the expression `key`
 * (read from pg_locks, where a bigint key is split into classid and objid).
 */
export function lockHeldSql(key: string): string {
  return `EXISTS (
    SELECT 1 FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = (((${key}) >> 32) & 4294967295)::oid
       AND l.objid = ((${key}) & 4294967295)::oid)`;
}

/** Is the session lock `name` held by anyone, on any connection? */
export async function advisoryLockHeld(q: Queryable, name: string): Promise<boolean> {
  const { rows } = await q.query<{ held: boolean }>(`SELECT ${lockHeldSql(KEY)} AS held`, [name]);
  return rows[0]?.held ?? false;
}

/**
 * Takes the session lock `name` on a connection of its own and returns that connection (ending it
 * releases the lock, and so does the process dying), or null when someone else holds it.
 * `onLost`: the connection failed later (it must not crash the process).
 */
export async function holdAdvisoryLock(
  databaseUrl: string,
  name: string,
  onLost: (error: Error) => void,
): Promise<pg.Client | null> {
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: `lock:${name}` });
  lock.on('error', onLost);
  try {
    await lock.connect();
    if (await tryAdvisoryLock(lock, name)) return lock;
  } catch (error) {
    await lock.end().catch(() => {});
    throw error;
  }
  await lock.end().catch(() => {});
  return null;
}
