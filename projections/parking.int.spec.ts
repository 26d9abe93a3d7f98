import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addressStreamId } from '@/domain/address';
import type { RecordedEvent } from '@/domain/messages';
import { projectorTestbed } from '@/test/projector-testbed';
import { upcastStored } from './address-view/projection';
import { decideParked, listDecisions, SkipReasonRequiredError } from './parking';
import { getAddress, readSideHealth, searchAddresses } from './read-side';
import { getProjectionStatus } from './status';
import { commands, waitFor, waitForProjection } from './testing';

const admin = { id: 'user:admin', name: 'Ada Admin', role: 'admin' as const };

/** The fix a deploy would bring: an upcaster for the schema version the projector cannot read yet. */
let fixed = false;
const upcast = (event: RecordedEvent): RecordedEvent =>
  fixed && event.schemaVersion === 99 ? upcastStored({ ...event, schemaVersion: 1 }) : upcastStored(event);

const bed = projectorTestbed('parking', {
  batchSize: 50,
  completeness: { checkMs: 200, fullEveryMs: 60_000 },
  hooks: { upcast },
});
const start = () => bed.start();

/** A change of `addressId` at `version` as the owner writes it, bypassing the app (schema 99: from a newer writer). */
async function rawChange(addressId: string, version: number, schemaVersion: number, city: string) {
  const { rows } = await bed.db.ownerPool.query<{ position: string }>(
    `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
     VALUES ($1, $2, $3, 'AddressChanged', $4, $5, $6) RETURNING position::text`,
    [
      addressStreamId(addressId),
      version,
      randomUUID(),
      schemaVersion,
      { addressId, changes: { city } },
      { actor: { id: 'newer-writer', name: 'Newer writer', role: 'operator' }, commandId: randomUUID(), source: 'api' },
    ],
  );
  return rows[0]!.position;
}

const parkedOf = async (addressId: string) =>
  (await getProjectionStatus(bed.db.pool)).projections.flatMap((p) =>
    p.parked.filter((x) => x.streamId === addressStreamId(addressId)),
  );

const viewVersion = async (addressId: string) =>
  (await bed.db.pool.query<{ version: number }>('SELECT version FROM address_view WHERE address_id = $1', [addressId]))
    .rows[0]?.version ?? null;

const search = (q: string) =>
  searchAddresses({ q, page: 1, perPage: 10, sort: 'relevance' }, { pool: bed.db.pool, search: bed.index });

describe('an event a projection cannot apply', () => {
  it('parks its address; every other address keeps projecting; retry after the fix applies it', async () => {
    const c = commands(bed.ledger);
    await start();
    const a = await c.register({ line1: '1 Poison Place', city: 'Augusta', postalCode: '04330', owner: 'park-a' });
    await waitForProjection(bed.db.pool, 'address_view');
    const poisonPosition = await rawChange(a, 2, 99, 'Hallowell');
    const laterPosition = await rawChange(a, 3, 1, 'Gardiner');

    const b = await c.register({ line1: '2 Bystander Road', city: 'Bangor', postalCode: '04401', owner: 'park-b' });
    const cc = await c.register({ line1: '3 Onlooker Street', city: 'Bangor', postalCode: '04401', owner: 'park-c' });
    await c.change(b, { line1: '20 Bystander Road' });
    await c.change(cc, { line1: '30 Onlooker Street' });
    // The bound is generous for a loaded 2-core runner; in practice it is well under a second.
    await waitFor(
      'B and C changed to be searchable',
      async () => {
        const { hits } = await search('Bystander Onlooker');
        const lines = hits.map((h) => h.line1).sort();
        return lines.join('|') === '20 Bystander Road|30 Onlooker Street';
      },
      { timeoutMs: 5_000 },
    );

    const parked = await waitFor('A to be parked in both projections', async () => {
      const rows = await parkedOf(a);
      return rows.length === 2 ? rows : null;
    });
    for (const p of parked) {
      expect(p).toMatchObject({ position: poisonPosition, type: 'AddressChanged', streamVersion: 2, requested: null });
      expect(p.error).toMatch(/schemaVersion 99 is newer than this code understands/);
    }
    // Its later event waits; the read models keep A at the version before the poison.
    expect(laterPosition > poisonPosition).toBe(true);
    await waitForProjection(bed.db.pool, 'address_view');
    expect(await viewVersion(a)).toBe(1);
    expect((await getAddress(a, bed.db.pool))?.upToDate).toBe(false);
    expect((await getAddress(b, bed.db.pool))?.upToDate).toBe(true);
    const { hits } = await search('Poison Place');
    expect(hits.find((h) => h.id === a)?.upToDate).toBe(false);
    expect((await readSideHealth({ pool: bed.db.pool, search: bed.index })).projector.status).toBe('degraded');

    // A retry before the fix parks it again, one more attempt, the decision logged.
    await decideParked(bed.db.pool, a, { action: 'retry', reason: null, actor: admin });
    await waitFor('the retry to fail again', async () => {
      const rows = await parkedOf(a);
      return rows.length === 2 && rows.every((r) => r.attempts === 2 && r.requested === null);
    });

    fixed = true;
    await decideParked(bed.db.pool, a, {
      action: 'retry',
      reason: 'upcaster for AddressChanged v99 deployed',
      actor: admin,
    });
    await waitFor('A to be applied up to its last event', async () => (await viewVersion(a)) === 3);
    await waitFor('A to be unparked', async () => (await parkedOf(a)).length === 0);
    const doc = await getAddress(a, bed.db.pool);
    expect(doc).toMatchObject({ city: 'Gardiner', version: 3, upToDate: true });
    await waitFor('search to have A at version 3', async () => {
      const docs = await bed.index.getDocuments([a]);
      return docs.get(a)?.version === 3;
    });
    const decisions = (await listDecisions(bed.db.pool)).filter((d) => d.streamId === addressStreamId(a));
    expect(decisions.map((d) => d.action)).toEqual(['retry', 'retry', 'retry', 'retry']);
    fixed = false;
  });

  it('skips an event only with a reason, records who and why, and resumes the address', async () => {
    const c = commands(bed.ledger);
    await start();
    const d = await c.register({ line1: '4 Skip Street', city: 'Bath', postalCode: '04530', owner: 'park-d' });
    await waitForProjection(bed.db.pool, 'address_view');
    const poison = await rawChange(d, 2, 99, 'Brunswick');
    await rawChange(d, 3, 1, 'Topsham');
    await waitFor('D to be parked', async () => (await parkedOf(d)).length === 2);

    await expect(decideParked(bed.db.pool, d, { action: 'skip', reason: '  ', actor: admin })).rejects.toBeInstanceOf(
      SkipReasonRequiredError,
    );
    // The table refuses a skip without a reason too, whoever writes it.
    await expect(
      bed.db.pool.query(
        `INSERT INTO parked_stream_decisions (projection, stream_id, event_id, event_type, position, action, actor_id, actor_name, actor_role)
         VALUES ('address_view', $1, $2, 'AddressChanged', $3, 'skip', 'x', 'x', 'admin')`,
        [addressStreamId(d), randomUUID(), poison],
      ),
    ).rejects.toThrow(/parked_stream_decisions_skip_reason/);

    const decided = await decideParked(bed.db.pool, d, {
      action: 'skip',
      reason: 'written by a test writer from the future',
      actor: admin,
    });
    expect(decided.map((p) => p.projection).sort()).toEqual(['address_search', 'address_view']);
    await waitFor('D to resume past the skipped event', async () => (await viewVersion(d)) === 3);
    await waitFor('D to be unparked', async () => (await parkedOf(d)).length === 0);
    // The skipped change left the city alone; the later change applied.
    expect(await getAddress(d, bed.db.pool)).toMatchObject({ city: 'Topsham', version: 3, upToDate: true });
    const skips = (await listDecisions(bed.db.pool)).filter((x) => x.streamId === addressStreamId(d));
    expect(skips).toHaveLength(2);
    for (const s of skips) {
      expect(s).toMatchObject({
        action: 'skip',
        reason: 'written by a test writer from the future',
        actorName: 'Ada Admin',
        position: poison,
      });
    }
    // The log is append-only, for the owner too.
    await expect(bed.db.ownerPool.query(`UPDATE parked_stream_decisions SET reason = 'edited'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(bed.db.ownerPool.query('DELETE FROM parked_stream_decisions')).rejects.toThrow(/append-only/);
    await expect(bed.db.ownerPool.query('TRUNCATE parked_stream_decisions')).rejects.toThrow(/append-only/);
    // Both read models are complete: every event was passed, the skipped one included.
    await waitFor('both projections complete', async () => {
      const status = await getProjectionStatus(bed.db.pool);
      return status.projections.every((p) => p.complete === true && p.parked.length === 0);
    });
  });
});
