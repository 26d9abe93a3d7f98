import type pg from 'pg';
import { ident } from './pg';

/**
 * Rebuilds write into a copy of a live table (`CREATE TABLE next (LIKE live INCLUDING ALL)`) and
 * then swap it in. Postgres names the copied indexes after the copy, so the swap also renames them
 * to the live names: the schema after a rebuild is exactly the migrated one (Prisma's view of it
 * and later migrations keep working).
 */

export async function createTableCopy(client: pg.ClientBase, live: string, next: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${ident(next)}`);
  await client.query(`CREATE TABLE ${ident(next)} (LIKE ${ident(live)} INCLUDING ALL)`);
}

export async function dropTable(client: pg.ClientBase, name: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${ident(name)}`);
}

interface IndexRow {
  name: string;
  definition: string;
}

async function indexesOf(client: pg.ClientBase, table: string): Promise<IndexRow[]> {
  const { rows } = await client.query<IndexRow>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = $1::regclass
      ORDER BY i.relname`,
    [table],
  );
  return rows;
}

/** An index definition without its own name and table, so the live and copied ones compare equal. */
function shape(definition: string): string {
  return definition.replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ /, 'CREATE $1INDEX ON ');
}

/**
 * Replaces `live` by `next` atomically. Must run inside the caller's transaction (the caller may
 * want to move a checkpoint in the same commit). Readers queue behind the brief exclusive lock for
 * the renames and then see the new table; `lock_timeout` bounds that wait instead of letting a long
 * reader stall the swap (and everyone queued behind it) indefinitely.
 */
export async function swapTables(client: pg.ClientBase, live: string, next: string): Promise<void> {
  await client.query(`SET LOCAL lock_timeout = '10s'`);
  await client.query(`LOCK TABLE ${ident(live)}, ${ident(next)} IN ACCESS EXCLUSIVE MODE`);
  const liveIndexes = await indexesOf(client, live);
  const nextIndexes = await indexesOf(client, next);
  const retired = `${live}_retired`;

  const renames: Array<[from: string, to: string]> = [];
  for (const index of liveIndexes) {
    const match = nextIndexes.find((n) => shape(n.definition) === shape(index.definition));
    if (!match) throw new Error(`table swap: ${next} has no index like ${index.name} (${index.definition})`);
    nextIndexes.splice(nextIndexes.indexOf(match), 1);
    renames.push([match.name, index.name]);
  }
  // Free the live names first (an index name is unique in the schema), then hand them over.
  for (const [i, index] of liveIndexes.entries()) {
    await client.query(`ALTER INDEX ${ident(index.name)} RENAME TO ${ident(`${retired}_i${i}`)}`);
  }
  for (const [from, to] of renames) await client.query(`ALTER INDEX ${ident(from)} RENAME TO ${ident(to)}`);

  await client.query(`DROP TABLE IF EXISTS ${ident(retired)}`);
  await client.query(`ALTER TABLE ${ident(live)} RENAME TO ${ident(retired)}`);
  await client.query(`ALTER TABLE ${ident(next)} RENAME TO ${ident(live)}`);
  await client.query(`DROP TABLE ${ident(retired)}`);
}
