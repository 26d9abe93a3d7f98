import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as addressRoute from '@/app/api/addresses/[id]/route';
import * as addressesRoute from '@/app/api/addresses/route';
import * as healthRoute from '@/app/api/health/route';
import * as projectionsRoute from '@/app/api/projections/route';
import { logger } from '@/lib/logger';
import { call, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import type { Queryable } from './pg';
import { getAddressAtLeast } from './read-side';
import { createPostgresSearchIndex } from './search/postgres-search-index';
import { waitFor, waitForProjection } from './testing';
import { type Projector, startProjector } from './worker';

// The read API through its real route handlers, with the projector running in-process.

let db: TestDatabase;
let projector: Projector | null = null;
const searchIndex = () => createPostgresSearchIndex({ connectionString: db.url });
const indexes: Array<ReturnType<typeof searchIndex>> = [];

async function startWorker() {
  const index = searchIndex();
  indexes.push(index);
  projector = await startProjector({
    databaseUrl: db.url,
    searchIndex: index,
    pollMs: 100,
    lockRetryMs: 50,
    log: logger.child({ test: 'read-api' }),
  });
}
async function stopWorker() {
  await projector?.stop();
  projector = null;
}

beforeAll(async () => {
  db = await createTestDatabase();
  process.env.DATABASE_URL = db.url;
  delete process.env.SEARCH_BACKEND;
  await provisionCallers(db.prisma);
});
afterEach(stopWorker);
afterAll(async () => {
  await Promise.all(indexes.map((i) => i.close()));
  await db?.drop();
});

async function register(fields: Record<string, unknown>) {
  const res = await call(addressesRoute.POST, { path: '/api/addresses', body: fields });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}

const chestnut = { line1: '12 Chestnut Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' };

describe('GET /api/addresses/{id}', () => {
  it('returns the state a command just wrote when asked for at least its version', async () => {
    await startWorker();
    const { id } = await register(chestnut);
    const change = await call<{ id: string }>(addressRoute.PATCH, {
      method: 'PATCH',
      path: `/api/addresses/${id}`,
      params: { id },
      body: { expectedVersion: 1, changes: { line1: '14 Chestnut Street' } },
    });
    expect(change.status).toBe(200);
    const res = await call<{ id: string }>(addressRoute.GET, {
      path: `/api/addresses/${id}?minVersion=${change.body.version}`,
      params: { id },
      as: 'auditor',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id,
      version: 2,
      status: 'active',
      line1: '14 Chestnut Street',
      lastEventType: 'AddressChanged',
      registeredAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('answers from the events when the projector does not get there in time, and 404 for an unknown id', async () => {
    process.env.READ_MODEL_WAIT_MS = '300';
    try {
      const { id } = await register({ ...chestnut, line1: '1 Unprojected Lane' });
      const res = await call<{ id: string }>(addressRoute.GET, {
        path: `/api/addresses/${id}?minVersion=1`,
        params: { id },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-read-source')).toBe('event-store');
      expect(res.body).toMatchObject({
        id,
        version: 1,
        line1: '1 Unprojected Lane',
        lastEventType: 'AddressRegistered',
      });

      await startWorker();
      await waitForProjection(db.pool, 'address_view');
      const projected = await call<{ id: string }>(addressRoute.GET, { path: `/api/addresses/${id}`, params: { id } });
      expect(projected.headers.get('x-read-source')).toBe('read-model');
      // The same document either way: the fallback folds the events with the projection itself.
      expect(projected.body).toEqual(res.body);

      const unknown = '7c2b6a3e-1111-4222-8333-944455556666';
      const missing = await call<{ id: string }>(addressRoute.GET, {
        path: `/api/addresses/${unknown}`,
        params: { id: unknown },
      });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
      const future = await call<{ id: string }>(addressRoute.GET, {
        path: `/api/addresses/${id}?minVersion=9`,
        params: { id },
      });
      expect(future.status).toBe(404);
    } finally {
      delete process.env.READ_MODEL_WAIT_MS;
    }
  });
});

describe('reading your own write (minVersion)', () => {
  /** The read-model pool, counting the reads of address_view a wait makes. */
  function countingReads() {
    const counter = { reads: 0, q: null as unknown as Queryable };
    counter.q = {
      query: ((text: unknown, values?: unknown) => {
        if (String(typeof text === 'string' ? text : (text as { text?: string }).text).includes('address_view')) {
          counter.reads++;
        }
        return db.pool.query(text as string, values as unknown[]);
      }) as Queryable['query'],
    };
    return counter;
  }

  it("sleeps on the projector's NOTIFY instead of polling the read model", async () => {
    const { id } = await register({ ...chestnut, line1: '3 Patient Lane' });
    // No projector runs: the read model never gets there, so the wait runs to its end.
    const counter = countingReads();
    const result = await getAddressAtLeast(id, 1, { timeoutMs: 1_500, q: counter.q });
    expect(result).toMatchObject({ state: 'ready', source: 'event-store' });
    // The first read, one when the LISTEN connection comes up, then the slow fallback poll: no
    // more (polling read it a dozen times in this wait).
    expect(counter.reads).toBeLessThanOrEqual(4);
  });

  it('answers from the read model once the projector says it moved on', async () => {
    const { id } = await register({ ...chestnut, line1: '5 Patient Lane' });
    const counter = countingReads();
    const waiting = getAddressAtLeast(id, 1, { timeoutMs: 30_000, q: counter.q });
    await waitFor('the first read of the read model', async () => counter.reads >= 1);
    await startWorker();
    expect(await waiting).toMatchObject({ state: 'ready', source: 'read-model', address: { id, version: 1 } });
  });

  it('does not wait for a version the event store does not have', async () => {
    const { id } = await register({ ...chestnut, line1: '7 Patient Lane' });
    const counter = countingReads();
    const result = await getAddressAtLeast(id, 5, { timeoutMs: 30_000, q: counter.q });
    expect(result).toMatchObject({ state: 'ready', source: 'event-store', address: { version: 1 } });
    expect(counter.reads).toBe(1);
  });
});

describe('GET /api/addresses (search)', () => {
  it('finds addresses with typos and abbreviations, filters, counts facets and reports no lag once caught up', async () => {
    await startWorker();
    await register({ ...chestnut, line1: '7 Chestnut Street', city: 'Bangor', postalCode: '04401' });
    await register({ line1: 'Hauptstraße 5', city: 'Berlin', postalCode: '10115', country: 'DE' });
    await waitForProjection(db.pool, 'address_search');

    const res = await call(addressesRoute.GET, { path: '/api/addresses?q=chesnut%20st&country=us&perPage=5' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      total: 2,
      totalIsCapped: false,
      // Two matches: the facets count both, not a sample.
      facetsSample: null,
      page: 1,
      perPage: 5,
      // "chesnut" occurs in no address: the nearest word of the index is offered.
      didYouMean: 'chestnut st',
      unmatchedFilters: [],
      lag: { events: 0, seconds: 0, failing: false },
    });
    expect(res.body.hits.map((h: { city: string }) => h.city).sort()).toEqual(['Bangor', 'Portland']);
    // The matched words of line 1, as ranges into it: the typo "chesnut" and the prefix "st".
    const [first] = res.body.hits as Array<{
      line1: string;
      highlights: { line1: { start: number; length: number }[] };
    }>;
    expect(first!.highlights.line1.map((r) => first!.line1.slice(r.start, r.start + r.length))).toEqual([
      'Chestnut',
      'Street',
    ]);
    expect(res.body.facets.city).toEqual({ Bangor: 1, Portland: 1 });

    const filtered = await call(addressesRoute.GET, { path: '/api/addresses?q=chestnut&city=bangor&sort=updated' });
    expect(filtered.body.total).toBe(1);
    const german = await call(addressesRoute.GET, { path: '/api/addresses?q=hauptstrasse' });
    expect(german.body.hits.map((h: { country: string }) => h.country)).toEqual(['DE']);
  });

  it('reads countries and regions as people type them, names a filter that matches nothing, and suggests a spelling', async () => {
    await startWorker();
    const maine = await register({
      line1: '40 Main Street',
      city: 'Augusta',
      region: 'Maine',
      postalCode: '04330',
      country: 'US',
    });
    const me = await register({
      line1: '41 Main Street',
      city: 'Augusta',
      region: 'ME',
      postalCode: '04330',
      country: 'US',
    });
    await register({ line1: '3 Mina Street', city: 'Augusta', region: 'ME', postalCode: '04330', country: 'US' });
    await waitForProjection(db.pool, 'address_search');
    const search = async (query: string) => call(addressesRoute.GET, { path: `/api/addresses?${query}` });
    const both = [maine.id, me.id].sort();

    for (const country of ['US', 'usa', 'United%20States', 'united+states+of+america']) {
      const res = await search(`q=main&city=augusta&country=${country}`);
      expect(res.status, country).toBe(200);
      expect(res.body.hits.map((h: { id: string }) => h.id).sort(), country).toEqual(both);
    }
    // The region as registered either way: the name finds the code and the code the name.
    for (const region of ['Maine', 'ME', 'maine', 'US-ME']) {
      const res = await search(`q=main+street&city=augusta&region=${region}`);
      expect(res.body.hits.map((h: { id: string }) => h.id).sort(), region).toEqual(both);
    }

    const typo = await search('q=mian+street&city=augusta');
    expect(typo.status).toBe(200);
    expect(typo.body.didYouMean).toBe('main street');
    // Main (two addresses) before Mina (one), although "mian" is one swap from both.
    expect(
      typo.body.hits
        .slice(0, 2)
        .map((h: { id: string }) => h.id)
        .sort(),
    ).toEqual(both);
    expect(
      typo.body.hits[0].highlights.line1.map((r: { start: number; length: number }) =>
        typo.body.hits[0].line1.slice(r.start, r.start + r.length),
      ),
    ).toEqual(['Main', 'Street']);

    const unmatched = await search('q=main&region=Mainee&country=US');
    expect(unmatched.status).toBe(200);
    expect(unmatched.body).toMatchObject({
      total: 0,
      didYouMean: null,
      unmatchedFilters: [{ field: 'region', value: 'Mainee' }],
    });
    const france = await search('country=France');
    expect(france.body).toMatchObject({ total: 0, unmatchedFilters: [{ field: 'country', value: 'FR' }] });
    const nothing = await search('q=zzzz+yyyy&city=augusta');
    expect(nothing.body).toMatchObject({ total: 0, unmatchedFilters: [] });

    // A country that is no country is refused, never ignored (which would widen the search).
    for (const country of ['Atlantis', 'ZZ', 'XYZ', '12']) {
      const res = await search(`country=${country}`);
      expect(res.status, country).toBe(422);
      expect(
        res.body.error.details.issues.map((i: { path: string }) => i.path),
        country,
      ).toEqual(['country']);
    }
  });

  it('refuses invalid query parameters with 422 validation_failed and the offending paths', async () => {
    const res = await call(addressesRoute.GET, {
      path: '/api/addresses?country=Atlantis&sort=random&page=0&perPage=1000&status=gone',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(
      ['country', 'page', 'perPage', 'sort', 'status'].sort(),
    );
    expect((await call(addressesRoute.GET, { path: '/api/addresses', as: 'anonymous' })).status).toBe(401);
  });

  it('reports lag in events and seconds while the projector is stopped', async () => {
    await stopWorker();
    await register({ ...chestnut, line1: '99 Stopped Street' });
    await register({ ...chestnut, line1: '98 Stopped Street' });
    const res = await call(addressesRoute.GET, { path: '/api/addresses?q=stopped' });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
    expect(res.body.lag.events).toBe(2);
    // The age of the oldest unapplied event: above zero, and growing while nothing projects.
    expect(res.body.lag.seconds).toBeGreaterThan(0);
    await waitFor('the lag in seconds to grow while the projector is stopped', async () => {
      const later = await call(addressesRoute.GET, { path: '/api/addresses?q=stopped' });
      return later.body.lag.seconds > res.body.lag.seconds && later.body.lag.events === 2;
    });

    const status = await call(projectionsRoute.GET, { path: '/api/projections', as: 'auditor' });
    expect(status.status).toBe(200);
    expect(
      status.body.projections.map((p: { name: string; alive: boolean; lagEvents: number }) => [
        p.name,
        p.alive,
        p.lagEvents,
      ]),
    ).toEqual([
      ['address_search', false, 2],
      ['address_view', false, 2],
    ]);
    const health = await call(healthRoute.GET, { path: '/api/health' });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      checks: { db: { status: 'ok' }, search: { status: 'ok' } },
    });
    expect(health.body.checks.projector.status).toBe('degraded');

    await startWorker();
    await waitForProjection(db.pool, 'address_search');
    const after = await call(addressesRoute.GET, { path: '/api/addresses?q=stopped' });
    expect(after.body).toMatchObject({ total: 2, lag: { events: 0 } });
    const healthy = await call(healthRoute.GET, { path: '/api/health' });
    expect(healthy.body.status).toBe('ok');
  });
});
