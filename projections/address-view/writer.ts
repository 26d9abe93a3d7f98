import type { Actor } from '@/domain/messages';
import { ident, type Queryable } from '../pg';
import type { AddressDoc } from './projection';

export const ADDRESS_VIEW_TABLE = 'address_view';

interface AddressViewRow {
  address_id: string;
  stream_id: string;
  version: number;
  status: 'active' | 'archived';
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postal_code: string;
  country: string;
  owner: string | null;
  archived_reason: string | null;
  registered_at: Date;
  updated_at: Date;
  last_event_type: string;
  last_position: string;
  last_actor_id: string;
  last_actor_name: string;
  last_actor_role: string;
}

export function rowToDoc(row: AddressViewRow): AddressDoc {
  return {
    id: row.address_id,
    streamId: row.stream_id,
    version: row.version,
    status: row.status,
    line1: row.line1,
    line2: row.line2,
    city: row.city,
    region: row.region,
    postalCode: row.postal_code,
    country: row.country,
    owner: row.owner,
    archivedReason: row.archived_reason,
    registeredAt: row.registered_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    lastEventType: row.last_event_type,
    lastPosition: String(row.last_position),
    lastActor: { id: row.last_actor_id, name: row.last_actor_name, role: row.last_actor_role as Actor['role'] },
  };
}

export async function loadDocs(q: Queryable, ids: readonly string[], table = ADDRESS_VIEW_TABLE) {
  const out = new Map<string, AddressDoc>();
  if (ids.length === 0) return out;
  const { rows } = await q.query<AddressViewRow>(`SELECT * FROM ${ident(table)} WHERE address_id = ANY($1::text[])`, [
    [...ids],
  ]);
  for (const row of rows) out.set(row.address_id, rowToDoc(row));
  return out;
}

export async function loadDoc(q: Queryable, id: string, table = ADDRESS_VIEW_TABLE): Promise<AddressDoc | null> {
  return (await loadDocs(q, [id], table)).get(id) ?? null;
}

/**
 * Writes documents in one statement. The `WHERE version <` guard is the projection's idempotency
 * in the database itself: a batch delivered again (after a crash between write and checkpoint, or
 * by a second worker that lost its lock) cannot move a row backwards or apply anything twice.
 */
export async function writeDocs(q: Queryable, docs: readonly AddressDoc[], table = ADDRESS_VIEW_TABLE) {
  if (docs.length === 0) return;
  const t = ident(table);
  const rows = docs.map((d) => ({
    address_id: d.id,
    stream_id: d.streamId,
    version: d.version,
    status: d.status,
    line1: d.line1,
    line2: d.line2,
    city: d.city,
    region: d.region,
    postal_code: d.postalCode,
    country: d.country,
    owner: d.owner,
    archived_reason: d.archivedReason,
    registered_at: d.registeredAt,
    updated_at: d.updatedAt,
    last_event_type: d.lastEventType,
    last_position: d.lastPosition,
    last_actor_id: d.lastActor.id,
    last_actor_name: d.lastActor.name,
    last_actor_role: d.lastActor.role,
  }));
  const columns = Object.keys(rows[0]!);
  await q.query(
    `INSERT INTO ${t} AS v (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(
       address_id text, stream_id text, version int, status text, line1 text, line2 text, city text, region text,
       postal_code text, country text, owner text, archived_reason text, registered_at timestamptz,
       updated_at timestamptz, last_event_type text, last_position bigint, last_actor_id text,
       last_actor_name text, last_actor_role text)
     ON CONFLICT (address_id) DO UPDATE SET
       ${columns
         .filter((c) => c !== 'address_id')
         .map((c) => `${c} = EXCLUDED.${c}`)
         .join(', ')}
     WHERE v.version < EXCLUDED.version`,
    [JSON.stringify(rows)],
  );
}
