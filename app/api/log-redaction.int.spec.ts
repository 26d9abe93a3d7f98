import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { captureLogs } from '@/test/logs';
import * as archiveRoute from './addresses/[id]/archive/route';
import * as correctionsRoute from './addresses/[id]/corrections/route';
import * as addressRoute from './addresses/[id]/route';
import * as addressesRoute from './addresses/route';

// Every address field, reason and credential of these requests carries a sentinel; after real
// commands (success, validation failure, conflict) through the real routes, no sentinel may
// appear in anything the app logged. lib/logger.unit.spec.ts tests the redaction rules alone.
const SENTINEL = 'zq-sentinel-7d2e';
const fields = {
  line1: `12 ${SENTINEL}a Street`,
  line2: `Unit ${SENTINEL}b`,
  city: `${SENTINEL}c`,
  region: 'ME',
  postalCode: '04101',
  country: 'US',
  owner: `Owner ${SENTINEL}d`,
};

let db: TestDatabase;
const logs = captureLogs();

beforeAll(async () => {
  db = await createTestDatabase();
  process.env.DATABASE_URL = db.url;
  await provisionCallers(db.prisma);
});
afterAll(async () => {
  logs.restore();
  await db?.drop();
});

describe('logs of address commands', () => {
  it('hold no address data, reason or token, while still recording each request', async () => {
    const created = await call(addressesRoute.POST, { path: '/api/addresses', body: fields });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const params = { id };
    const changed = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params,
      body: { expectedVersion: 1, changes: { city: `${SENTINEL}e` }, reason: `moved ${SENTINEL}f` },
    });
    expect(changed.status).toBe(200);
    const conflict = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params,
      body: { expectedVersion: 1, changes: { city: `${SENTINEL}g` } },
    });
    expect(conflict.status).toBe(409);
    const invalid = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body: { ...fields, postalCode: `${SENTINEL}h`, country: 'ZZ' },
    });
    expect(invalid.status).toBe(422);
    const corrected = await call(correctionsRoute.POST, {
      path: `/api/addresses/${id}/corrections`,
      params,
      body: { expectedVersion: 2, corrects: 1, fields: { line2: `Unit ${SENTINEL}i` }, reason: `typo ${SENTINEL}j` },
    });
    expect(corrected.status).toBe(200);
    const archived = await call(archiveRoute.POST, {
      path: `/api/addresses/${id}/archive`,
      params,
      body: { expectedVersion: 3, reason: `closed ${SENTINEL}k` },
    });
    expect(archived.status).toBe(200);
    const read = await call(addressRoute.GET, { path: `/api/addresses/${id}`, params });
    expect(read.status).toBe(200);

    const all = logs.lines.join('\n');
    expect(logs.lines.filter((l) => l.includes('"api request"'))).toHaveLength(7);
    expect(all).not.toContain(SENTINEL);
    expect(all).not.toContain(credentials('operator').authorization!.slice('Bearer '.length));
  });
});
