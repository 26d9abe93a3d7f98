import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import type { AddressDoc } from './projection';
import { loadDoc, writeDocs } from './writer';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

function doc(id: string, version: number, city: string): AddressDoc {
  return {
    id,
    streamId: `address-${id}`,
    version,
    status: 'active',
    line1: '1 Main Street',
    line2: null,
    city,
    region: 'ME',
    postalCode: '04101',
    country: 'US',
    owner: null,
    archivedReason: null,
    registeredAt: '2026-11-01T10:00:00.000Z',
    updatedAt: `2026-11-01T10:00:0${version}.000Z`,
    lastEventType: version === 1 ? 'AddressRegistered' : 'AddressChanged',
    lastPosition: String(version * 10),
    lastActor: { id: 'u-1', name: 'Ada', role: 'operator' },
  };
}

// The writer must guard on its own: a second worker that lost its lock, or a batch delivered
// again after a crash, hands it documents older than what is stored, without the projection's
// own version check in between.
describe('writeDocs', () => {
  it('never replaces a stored document with an older or equal version', async () => {
    const id = randomUUID();
    await writeDocs(db.pool, [doc(id, 3, 'Portland')]);

    await writeDocs(db.pool, [doc(id, 2, 'Older')]);
    expect(await loadDoc(db.pool, id)).toEqual(doc(id, 3, 'Portland'));

    await writeDocs(db.pool, [doc(id, 3, 'Same version, other value')]);
    expect(await loadDoc(db.pool, id)).toEqual(doc(id, 3, 'Portland'));

    await writeDocs(db.pool, [doc(id, 4, 'Bangor')]);
    expect(await loadDoc(db.pool, id)).toEqual(doc(id, 4, 'Bangor'));
  });

  it('applies the newer documents of a mixed batch and keeps the newer stored ones', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await writeDocs(db.pool, [doc(a, 5, 'Kept'), doc(b, 1, 'Replaced')]);
    await writeDocs(db.pool, [doc(a, 4, 'Stale'), doc(b, 2, 'Newer')]);
    expect((await loadDoc(db.pool, a))?.city).toBe('Kept');
    expect((await loadDoc(db.pool, b))?.city).toBe('Newer');
  });
});
