import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf, call, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { waitFor } from '@/test/wait';
import * as archiveRoute from './addresses/[id]/archive/route';
import * as correctionsRoute from './addresses/[id]/corrections/route';
import * as eventsRoute from './addresses/[id]/events/route';
import * as restoreRoute from './addresses/[id]/restore/route';
import * as revertRoute from './addresses/[id]/revert/route';
import * as addressRoute from './addresses/[id]/route';
import * as stateRoute from './addresses/[id]/state/route';
import * as addressesRoute from './addresses/route';
import * as feedRoute from './events/route';
import * as healthRoute from './health/route';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  // The routes use the process-wide client for DATABASE_URL, exactly as in production.
  process.env.DATABASE_URL = db.url;
  await provisionCallers(db.prisma);
});
afterAll(async () => db?.drop());

const auburn = {
  line1: '80 Third Street',
  city: 'Auburn',
  region: 'ME',
  postalCode: '04210',
  country: 'US',
};

/** Auburn with an owner of its own, so each test's address is not a duplicate of another's. */
function uniqueAuburn() {
  return { ...auburn, owner: `owner-${randomUUID()}` };
}

async function register(fields: Record<string, unknown> = uniqueAuburn()) {
  const res = await call(addressesRoute.POST, { path: '/api/addresses', body: fields });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number; position: string };
}

async function streamCount(id: string): Promise<number> {
  const r = await db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [`address-${id}`]);
  return r.rows[0].n;
}

describe('POST /api/addresses', () => {
  it('registers an address and answers 201 with its id, version and position', async () => {
    const res = await call(addressesRoute.POST, { path: '/api/addresses', body: { ...auburn, country: 'us' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), version: 1, position: expect.any(String) });
    const [row] = (
      await db.pool.query('SELECT type, data, metadata FROM events WHERE stream_id = $1', [`address-${res.body.id}`])
    ).rows;
    expect(row.type).toBe('AddressRegistered');
    expect(row.data).toMatchObject({ addressId: res.body.id, line1: '80 Third Street', country: 'US' });
    expect(row.metadata).toMatchObject({
      actor: actorOf('operator'),
      source: 'api',
      commandId: expect.any(String),
      correlationId: expect.any(String),
    });
  });

  it('answers validation_failed with the path of every invalid field', async () => {
    const res = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body: { line1: '', city: 'Auburn', postalCode: 'ABCDE', country: 'XX' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['line1', 'country']));
  });

  it('refuses a postal code that does not fit the country', async () => {
    const res = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body: { ...auburn, postalCode: 'SW1A 1AA' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'postalCode' })]),
    );
  });

  it('answers 422 for a body that is not JSON, and 415 for one that is not declared JSON', async () => {
    const bad = await call(addressesRoute.POST, { path: '/api/addresses', rawBody: '{"line1":' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('validation_failed');
    const text = await call(addressesRoute.POST, {
      path: '/api/addresses',
      rawBody: 'line1=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });

  it('answers payload_too_large for a body over the limit and stores nothing', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM events');
    const res = await call(addressesRoute.POST, {
      path: '/api/addresses',
      rawBody: JSON.stringify({ ...auburn, owner: 'x'.repeat(70_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    const after = await db.pool.query('SELECT count(*)::int AS n FROM events');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('returns the first result for a repeated Idempotency-Key and appends once', async () => {
    const key = randomUUID();
    const body = uniqueAuburn();
    const first = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body,
      headers: { 'idempotency-key': key },
    });
    const second = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body,
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ id: first.body.id, version: 1, position: first.body.position });
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const n = await db.pool.query("SELECT count(*)::int AS n FROM events WHERE data->>'addressId' = $1", [
      first.body.id,
    ]);
    expect(n.rows[0].n).toBe(1);
  });

  it('answers 30 parallel retries of one Idempotency-Key with the first result exactly, and appends once', async () => {
    const key = randomUUID();
    // An owner of its own: other tests registered Auburn already (the duplicate guard would answer).
    const body = { ...auburn, owner: `retry-${key}` };
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(addressesRoute.POST, { path: '/api/addresses', body, headers: { 'idempotency-key': key } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(201));
    const firsts = responses.filter((r) => r.headers.get('idempotent-replayed') !== 'true');
    expect(firsts).toHaveLength(1);
    const first = firsts[0]!.body;
    for (const r of responses) {
      expect(r.body).toEqual({ ...first, replayed: r.headers.get('idempotent-replayed') === 'true' });
    }
    // The id every response names is the one stream that was written, and nothing else was.
    expect(await streamCount(first.id)).toBe(1);
    const written = await db.pool.query("SELECT count(*)::int AS n FROM events WHERE metadata->>'commandId' LIKE $1", [
      `idem:%:${key}`,
    ]);
    expect(written.rows[0].n).toBe(1);
  });

  it('refuses a repeated Idempotency-Key with a different body', async () => {
    const key = randomUUID();
    const body = uniqueAuburn();
    await call(addressesRoute.POST, { path: '/api/addresses', body, headers: { 'idempotency-key': key } });
    const res = await call(addressesRoute.POST, {
      path: '/api/addresses',
      body: { ...body, line1: '82 Third Street' },
      headers: { 'idempotency-key': key },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_key_reused');
  });
});

describe('the duplicate guard', () => {
  it('lets 1 of 20 concurrent registrations of one address win; 19 get duplicate_address naming it', async () => {
    const owner = `owner-${randomUUID()}`;
    const spellings = Array.from({ length: 20 }, (_, i) => ({
      ...auburn,
      line1: ['80 Third Street', '  80 third  street', '80 THIRD STREET', '80  Third Street '][i % 4],
      owner: i % 2 ? owner : ` ${owner.toUpperCase()} `,
    }));
    const results = await Promise.all(
      spellings.map((body) => call(addressesRoute.POST, { path: '/api/addresses', body })),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(19);
    const winner = created[0]!.body.id;
    for (const r of refused) {
      expect(r.body.error).toMatchObject({ code: 'duplicate_address', details: { addressId: winner } });
    }
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM events WHERE data->>'owner' ILIKE $1", [
      `%${owner}%`,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('does not count an archived address, and refuses a change onto an active one', async () => {
    const fields = uniqueAuburn();
    const first = await register(fields);
    const archive = await call(archiveRoute.POST, {
      path: `/api/addresses/${first.id}/archive`,
      params: { id: first.id },
      body: { expectedVersion: 1, reason: 'demolished' },
    });
    expect(archive.status).toBe(200);
    const second = await register(fields);
    expect(second.id).not.toBe(first.id);

    const other = await register({ ...fields, line1: '81 Third Street' });
    const res = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${other.id}`,
      params: { id: other.id },
      body: { expectedVersion: 1, changes: { line1: '80 third street' } },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'duplicate_address', details: { addressId: second.id } });
    expect(await streamCount(other.id)).toBe(1);
  });
});

describe('commands on an address', () => {
  it('changes an address at the expected version and records the reason', async () => {
    const { id } = await register();
    const res = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 1, changes: { line1: '82 Third Street' }, reason: 'moved next door' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, version: 2 });
  });

  it('answers a stale expectedVersion with version_conflict carrying both versions', async () => {
    const { id } = await register();
    const patch = (line1: string) =>
      call(addressRoute.PATCH, {
        method: 'PATCH',
        path: `/api/addresses/${id}`,
        params: { id },
        body: { expectedVersion: 1, changes: { line1 } },
      });
    expect((await patch('1 First Street')).status).toBe(200);
    const res = await patch('2 Second Street');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'version_conflict',
      details: { expectedVersion: 1, actualVersion: 2 },
    });
  });

  it('lets exactly one of 20 concurrent changes at the same version succeed', async () => {
    const { id } = await register();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(addressRoute.PATCH, {
          method: 'PATCH',
          path: `/api/addresses/${id}`,
          params: { id },
          body: { expectedVersion: 1, changes: { line1: `${i + 1} Concurrent Street` } },
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'version_conflict')).toBe(true);
    const versions = await db.pool.query(
      'SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [`address-${id}`],
    );
    expect(versions.rows.map((r) => r.stream_version)).toEqual([1, 2]);
  });

  it('answers rule_violated when changing an archived address', async () => {
    const { id } = await register();
    const archived = await call(archiveRoute.POST, {
      path: `/api/addresses/${id}/archive`,
      params: { id },
      body: { expectedVersion: 1, reason: 'demolished' },
    });
    expect(archived.status).toBe(200);
    const res = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 2, changes: { city: 'Lewiston' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'rule_violated', details: { rule: 'address_archived' } });
  });

  it('answers not_found for an address that does not exist', async () => {
    const id = randomUUID();
    const res = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 1, changes: { city: 'Lewiston' } },
    });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const notAnId = await call(eventsRoute.GET, { path: '/api/addresses/nope/events', params: { id: 'nope' } });
    expect(notAnId.status).toBe(404);
  });

  it('a change that changes nothing appends nothing and keeps the version', async () => {
    const { id } = await register();
    const res = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 1, changes: { city: 'Auburn' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, position: null });
    expect(await streamCount(id)).toBe(1);
  });

  it('checks a changed postal code against the country the address already has', async () => {
    const { id } = await register();
    const res = await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 1, changes: { postalCode: 'SW1A 1AA' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.issues[0].path).toBe('changes.postalCode');
  });

  it('corrects, reverts, archives and restores, each recorded with its reason', async () => {
    const { id } = await register();
    const base = { path: `/api/addresses/${id}`, params: { id } };
    const changed = await call(addressRoute.PATCH, {
      ...base,
      method: 'PATCH',
      body: { expectedVersion: 1, changes: { line1: '90 Third Street' } },
    });
    expect(changed.body.version).toBe(2);
    const corrected = await call(correctionsRoute.POST, {
      ...base,
      body: { expectedVersion: 2, corrects: 2, fields: { line1: '92 Third Street' }, reason: 'typo in house number' },
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body.version).toBe(3);
    const reverted = await call(revertRoute.POST, {
      ...base,
      body: { expectedVersion: 3, version: 3, reason: 'the correction was itself wrong' },
    });
    expect(reverted.status).toBe(200);
    expect(reverted.body.version).toBe(4);
    const archived = await call(archiveRoute.POST, {
      ...base,
      body: { expectedVersion: 4, reason: 'building demolished' },
    });
    expect(archived.body.version).toBe(5);
    const restored = await call(restoreRoute.POST, { ...base, body: { expectedVersion: 5 } });
    expect(restored.body.version).toBe(6);

    const history = await call(eventsRoute.GET, { path: `/api/addresses/${id}/events`, params: { id } });
    expect(history.status).toBe(200);
    expect(history.body.events.map((e: { type: string; version: number }) => [e.version, e.type])).toEqual([
      [1, 'AddressRegistered'],
      [2, 'AddressChanged'],
      [3, 'AddressCorrected'],
      [4, 'AddressCorrected'],
      [5, 'AddressArchived'],
      [6, 'AddressRestored'],
    ]);
    expect(history.body.events[2].data).toMatchObject({ corrects: 2, reason: 'typo in house number' });
    expect(history.body.events[3].data).toMatchObject({ revertOf: 3 });
    expect(history.body.events[4].metadata.reason).toBe('building demolished');
    expect(history.body.events.every((e: { recordedAt: string }) => !Number.isNaN(Date.parse(e.recordedAt)))).toBe(
      true,
    );
  });

  it('requires a reason to archive', async () => {
    const { id } = await register();
    const res = await call(archiveRoute.POST, {
      path: `/api/addresses/${id}/archive`,
      params: { id },
      body: { expectedVersion: 1 },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues[0].path).toBe('reason');
  });
});

describe('reading history and past states', () => {
  it('returns the state as of a version and as of an instant', async () => {
    const { id } = await register();
    await call(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 1, changes: { line1: '100 Main Street', city: 'Lewiston', postalCode: '04240' } },
    });
    const v1 = await call(stateRoute.GET, { path: `/api/addresses/${id}/state?version=1`, params: { id } });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ id, version: 1, status: 'active', line1: '80 Third Street', city: 'Auburn' });
    const v2 = await call(stateRoute.GET, { path: `/api/addresses/${id}/state?version=2`, params: { id } });
    expect(v2.body).toMatchObject({ version: 2, line1: '100 Main Street', city: 'Lewiston' });
    // Just after the registration by the database's own clock, so before the change.
    const events = await db.pool.query('SELECT recorded_at FROM events WHERE stream_id = $1 ORDER BY stream_version', [
      `address-${id}`,
    ]);
    const at = new Date((events.rows[0].recorded_at as Date).getTime() + 1).toISOString();
    const asOf = await call(stateRoute.GET, {
      path: `/api/addresses/${id}/state?at=${encodeURIComponent(at)}`,
      params: { id },
    });
    expect(asOf.body).toMatchObject({ version: 1, city: 'Auburn' });
    const before = await call(stateRoute.GET, {
      path: `/api/addresses/${id}/state?at=2000-01-01T00:00:00Z`,
      params: { id },
    });
    expect(before.status).toBe(404);
    const beyond = await call(stateRoute.GET, { path: `/api/addresses/${id}/state?version=9`, params: { id } });
    expect(beyond.status).toBe(422);
  });

  it('pages through the global feed with a cursor, in order, without repeats', async () => {
    for (let i = 0; i < 3; i++) await register({ ...uniqueAuburn(), line1: `${i + 1} Feed Street` });
    const all = await db.pool.query('SELECT event_id::text AS id FROM events ORDER BY transaction_id, position');
    const seen: string[] = [];
    let after = '';
    // The feed stops below the oldest transaction in flight anywhere on the server (other test
    // files write to other databases of the same server), so an empty page means "not yet", not
    // "done": keep polling until every committed event has come through, within a bound.
    await waitFor('every event to come through the feed', async () => {
      const res = await call(feedRoute.GET, { path: `/api/events?limit=2&after=${after}`, as: 'auditor' });
      expect(res.status).toBe(200);
      seen.push(...res.body.events.map((e: { eventId: string }) => e.eventId));
      after = res.body.next;
      return seen.length >= all.rows.length;
    });
    expect(seen).toEqual(all.rows.map((r) => r.id));
    const bad = await call(feedRoute.GET, { path: '/api/events?after=garbage', as: 'auditor' });
    expect(bad.status).toBe(422);
  });
});

describe('access', () => {
  it('answers unauthorized without valid credentials and forbidden for a role that may not act', async () => {
    const anonymous = await call(addressesRoute.POST, { path: '/api/addresses', body: auburn, as: 'anonymous' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const auditor = await call(addressesRoute.POST, { path: '/api/addresses', body: auburn, as: 'auditor' });
    expect(auditor.status).toBe(403);
    expect(auditor.body.error.code).toBe('forbidden');
  });
});

describe('GET /api/health', () => {
  it('reports the database as up', async () => {
    const res = await call(healthRoute.GET, { path: '/api/health' });
    expect(res.status).toBe(200);
    expect(res.body.checks.db.status).toBe('ok');
  });

  it('answers anonymous callers (and bad credentials) with the status only, no workers, lag or timings', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer x' },
      { cookie: 'address_ledger_session=x' },
    ];
    for (const headers of attempts) {
      const res = await call(healthRoute.GET, { path: '/api/health', as: 'anonymous', headers });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: expect.stringMatching(/^(ok|degraded)$/) });
    }
  });
});
