import type pg from 'pg';

/**
 * Rebuilds write into a copy of a live read-model table (`<live>_rebuild`) and then swap it in.
 * Creating, renaming and dropping tables needs rights the runtime role does not have (it owns
 * nothing and may not create in the schema), so each step is a SECURITY DEFINER function of the
 * least-privilege migration (20261201010000), allowed only for tables in `read_model_tables`:
 * the copy has the live table's columns, generated columns and indexes, and after the swap its
 * indexes carry the live names, so the schema is exactly the migrated one again.
 */

export const rebuildTableName = (live: string) => `${live}_rebuild`;

/** A fresh, empty `<live>_rebuild` (an old one is dropped first); returns its name. */
export async function createTableCopy(client: pg.ClientBase, live: string): Promise<string> {
  const { rows } = await client.query<{ next: string }>('SELECT read_model_copy_create($1) AS next', [live]);
  return rows[0]!.next;
}

/**
 * After many writes: merges the table's GIN pending lists and refreshes its planner statistics
 * (migration 20261204030000_read_model_settle). `table` is a read model or its rebuild copy.
 */
export async function settleTable(q: Pick<pg.ClientBase, 'query'>, table: string): Promise<void> {
  await q.query('SELECT read_model_settle($1)', [table]);
}

/** Drops `<live>_rebuild` if it exists. */
export async function dropTableCopy(client: pg.ClientBase, live: string): Promise<void> {
  await client.query('SELECT read_model_copy_drop($1)', [live]);
}

/**
 * Replaces `live` by its copy atomically. Must run inside the caller's transaction (the caller may
 * want to move a checkpoint in the same commit). Readers queue behind the brief exclusive lock for
 * the renames and then see the new table; `lock_timeout` bounds that wait instead of letting a long
 * reader stall the swap (and everyone queued behind it) indefinitely.
 */
export async function swapTables(client: pg.ClientBase, live: string): Promise<void> {
  await client.query(`SET LOCAL lock_timeout = '10s'`);
  await client.query('SELECT read_model_copy_swap($1)', [live]);
}
