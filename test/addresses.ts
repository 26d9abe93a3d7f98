import { randomUUID } from 'node:crypto';
import type { Actor } from '@/domain/messages';
import { ledger } from '@/lib/ledger';
import { readSide } from '@/projections/read-side';

export const THIRD_STREET = {
  line1: '80 Third Street',
  city: 'Auburn',
  region: 'ME',
  postalCode: '04210',
  country: 'US',
};

/** THIRD_STREET with an owner of its own: the duplicate guard refuses a second active copy. */
export const thirdStreet = () => ({ ...THIRD_STREET, owner: `test-${randomUUID()}` });

/**
 * A fresh address in the state a command under test needs, written through the ledger of
 * DATABASE_URL by `actor`: registered (version 1), then changed (2), then archived (3).
 */
export async function seedAddress(
  actor: Actor,
  state: 'fresh' | 'changed' | 'archived' = 'fresh',
): Promise<{ id: string; version: number }> {
  const id = randomUUID();
  const metadata = () => ({ commandId: randomUUID(), correlationId: randomUUID(), actor, source: 'api' as const });
  await ledger().handle({
    type: 'RegisterAddress',
    data: { addressId: id, fields: thirdStreet() },
    metadata: metadata(),
  });
  if (state !== 'fresh') {
    await ledger().handle({
      type: 'ChangeAddress',
      data: { addressId: id, changes: { line1: '82 Third Street' } },
      metadata: metadata(),
    });
  }
  if (state === 'archived') {
    await ledger().handle({ type: 'ArchiveAddress', data: { addressId: id, reason: 'moved' }, metadata: metadata() });
  }
  return { id, version: state === 'fresh' ? 1 : state === 'changed' ? 2 : 3 };
}

/**
 * A fresh address that address_view has parked at its registration, as the projector records it
 * (projections/parking.ts): for routes and actions that act on a parked address.
 */
export async function seedParkedAddress(actor: Actor): Promise<{ id: string; version: number }> {
  const seeded = await seedAddress(actor);
  const [event] = await ledger().store.readStream(`address-${seeded.id}`);
  await readSide().pool.query(
    `INSERT INTO parked_streams (projection, stream_id, event_id, event_type, position, stream_version, error)
     VALUES ('address_view', $1, $2, $3, $4, 1, 'UpcastError: seeded by a test')`,
    [event!.streamId, event!.eventId, event!.type, event!.position],
  );
  return seeded;
}
