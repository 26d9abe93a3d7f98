import pg from 'pg';
import { withPoolClient } from '@/lib/db';

/** Anything that runs a query: a pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.ClientBase;

export interface TransactionOptions {
  readOnly?: boolean;
  /** One snapshot for every statement (the completeness checker compares two reads of it). */
  repeatableRead?: boolean;
  /** `SET LOCAL` settings (numbers or plain words only: they are written into the SQL). */
  settings?: Record<string, number | string>;
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const SETTING_VALUE = /^[A-Za-z0-9_.]+$/;

/** Runs `fn` in one transaction on a client of its own; rolls back on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const begin = [
    'BEGIN',
    options.repeatableRead ? ' ISOLATION LEVEL REPEATABLE READ' : '',
    options.readOnly ? ' READ ONLY' : '',
    ...Object.entries(options.settings ?? {}).map(([name, value]) => {
      if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(String(value))) {
        throw new Error(`not a plain setting: ${name} = ${value}`);
      }
      return `; SET LOCAL ${name} = ${value}`;
    }),
  ].join('');
  // A dead connection is dropped from the pool instead of being handed out again.
  return withPoolClient(
    pool,
    async (client) => {
      try {
        await client.query(begin);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!isConnectionError(error)) await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    },
    isConnectionError,
  );
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
