import pg from 'pg';

/** Anything that runs a query: a pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.ClientBase;

/** Runs `fn` in one transaction on a client of its own; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A dead connection is dropped from the pool instead of being handed out again.
    if (isConnectionError(error)) broken = error as Error;
    else await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(broken);
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Table names come from code, never from users; this only guards against a typo turning into SQL. */
export function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return `"${name}"`;
}

/** A connection-level failure (refused, reset, terminated): the client must not be reused. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  const code = e?.code ?? '';
  const message = String(e?.message ?? '');
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      'ENOTFOUND',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08003',
    ].includes(code) ||
    /Connection terminated|connection error|Client has encountered a connection error|not queryable/i.test(message)
  );
}

export function createPgPool(connectionString: string, options: { max?: number; applicationName?: string } = {}) {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 5,
    application_name: options.applicationName ?? 'address-ledger',
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection (database restart) must not crash the process; the pool
  // drops it and the next query opens a new one.
  pool.on('error', () => {});
  return pool;
}
