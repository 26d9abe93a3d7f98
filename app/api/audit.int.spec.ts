import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AddressEvent, addressIdFromStream, replay, upcast } from '@/domain/address';
import { Prisma } from '@/generated/prisma/client';
import { accessLog } from '@/lib/access-log';
import { ledger } from '@/lib/ledger';
import { actorOf, call, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { type AuditCursor, decodeAuditCursor } from '../audit/_lib/audit-cursor';
import { filterConditions, loadAuditView } from '../audit/_lib/audit-log.server';
import { auditQuerySchema, parseAuditFilter } from '../audit/_lib/audit-query';
import { AUDIT_ACTORS, seedAuditEvents } from '../audit/_lib/testing';
import * as accessRoute from './audit/access/route';
import * as auditRoute from './audit/route';

vi.mock('server-only', () => ({}));

/*
 * The audit log against the truth: for a seeded mix of actors, types, sources, reasons, cities and
 * recorded times (six months), every filter and qualifier returns exactly the events that a
 * direct SQL query on `events` returns (the city, which needs the address's state at each event,
 * is checked against the domain's own fold instead), newest first, through the page's data source
 * and through GET /api/audit, paging in small pages so that every page boundary is crossed.
 */

let t: TestDatabase;
let addressIds: string[];

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  await provisionCallers(t.prisma);
  addressIds = await seedAuditEvents(t.ownerPool, {
    addresses: 40,
    eventsPerAddress: 6,
    from: new Date('2026-09-01T00:00:00Z'),
    stepMs: 17 * 3_600_000,
  });
  await waitForAllEventsVisible(t.pool);
});
afterAll(async () => t?.drop());

async function positions(where: string, params: unknown[] = []): Promise<string[]> {
  const { rows } = await t.pool.query<{ p: string }>(
    `SELECT position::text AS p FROM events WHERE ${where} ORDER BY position DESC`,
    params,
  );
  return rows.map((r) => r.p);
}

/** Positions of the events whose address had `city` once the event applied (the domain's fold). */
async function cityPositions(city: string): Promise<string[]> {
  const { rows } = await t.pool.query(
    'SELECT position::text AS p, stream_id, stream_version, type, schema_version, data FROM events ORDER BY stream_id, stream_version',
  );
  const out: { p: string; at: boolean }[] = [];
  let stream = '';
  let events: AddressEvent[] = [];
  for (const r of rows) {
    if (r.stream_id !== stream) {
      stream = r.stream_id;
      events = [];
    }
    const e = upcast({ type: r.type, schemaVersion: r.schema_version, data: r.data });
    events.push({ type: e.type, data: e.data, metadata: {} } as AddressEvent);
    out.push({ p: r.p, at: replay(events).fields?.city.toLowerCase() === city.toLowerCase() });
  }
  return out
    .filter((o) => o.at)
    .map((o) => o.p)
    .sort((a, b) => Number(b) - Number(a));
}

const ada = AUDIT_ACTORS.ada;
const bob = AUDIT_ACTORS.bob;
const actorIs = (...actors: { id: string }[]) =>
  `metadata #>> '{actor,id}' IN (${actors.map((a) => `'${a.id}'`).join(', ')})`;

interface Case {
  name: string;
  /** Query string of the page / API (without cursor and limit). */
  query: Record<string, string>;
  expected: () => Promise<string[]>;
}

const CASES: Case[] = [
  { name: 'no filter', query: {}, expected: () => positions('true') },
  { name: 'actor by name', query: { q: 'actor:ada' }, expected: () => positions(actorIs(ada)) },
  { name: 'actor by quoted full name', query: { q: 'actor:"bob builder"' }, expected: () => positions(actorIs(bob)) },
  { name: 'actor by id', query: { q: `actor:${bob.id}` }, expected: () => positions(actorIs(bob)) },
  {
    name: 'API token by its bare name',
    query: { q: 'actor:importer' },
    expected: () => positions(actorIs(AUDIT_ACTORS.importer)),
  },
  {
    name: 'two actors mean either',
    query: { q: 'actor:Ada actor:importer' },
    expected: () => positions(actorIs(ada, AUDIT_ACTORS.importer)),
  },
  { name: 'actor parameter', query: { actor: 'Ada' }, expected: () => positions(actorIs(ada)) },
  { name: 'type', query: { q: 'type:AddressCorrected' }, expected: () => positions(`type = 'AddressCorrected'`) },
  { name: 'type by its label', query: { q: 'type:corrected' }, expected: () => positions(`type = 'AddressCorrected'`) },
  {
    name: 'two types',
    query: { q: 'type:Changed type:AddressArchived' },
    expected: () => positions(`type IN ('AddressChanged', 'AddressArchived')`),
  },
  { name: 'type parameter', query: { type: 'AddressRestored' }, expected: () => positions(`type = 'AddressRestored'`) },
  { name: 'source', query: { q: 'source:import' }, expected: () => positions(`metadata ->> 'source' = 'import'`) },
  { name: 'source parameter', query: { source: 'ui' }, expected: () => positions(`metadata ->> 'source' = 'ui'`) },
  {
    name: 'created on or after a date',
    query: { q: 'created:>=2026-11-01' },
    expected: () => positions(`recorded_at >= '2026-11-01T00:00:00Z'`),
  },
  {
    name: 'created after a date (the whole day excluded)',
    query: { q: 'created:>2026-11-01' },
    expected: () => positions(`recorded_at >= '2026-11-02T00:00:00Z'`),
  },
  {
    name: 'created before a date',
    query: { q: 'created:<2026-10-01' },
    expected: () => positions(`recorded_at < '2026-10-01T00:00:00Z'`),
  },
  {
    name: 'created on or before a date (the whole day included)',
    query: { q: 'created:<=2026-10-01' },
    expected: () => positions(`recorded_at < '2026-10-02T00:00:00Z'`),
  },
  {
    name: 'created in a range',
    query: { q: 'created:2026-10-01..2026-10-15' },
    expected: () => positions(`recorded_at >= '2026-10-01T00:00:00Z' AND recorded_at < '2026-10-16T00:00:00Z'`),
  },
  {
    name: 'created on one day',
    query: { q: 'created:2026-10-03' },
    expected: () => positions(`recorded_at >= '2026-10-03T00:00:00Z' AND recorded_at < '2026-10-04T00:00:00Z'`),
  },
  {
    name: 'created at an exact time',
    query: { q: 'created:>=2026-10-03T05:00:00Z' },
    expected: () => positions(`recorded_at >= '2026-10-03T05:00:00Z'`),
  },
  {
    name: 'from and to parameters',
    query: { from: '2026-10-01', to: '2026-10-15' },
    expected: () => positions(`recorded_at >= '2026-10-01T00:00:00Z' AND recorded_at < '2026-10-16T00:00:00Z'`),
  },
  {
    name: 'address',
    query: { q: 'address:ADDRESS_3' },
    expected: () => positions('stream_id = $1', [`address-${addressIds[3]}`]),
  },
  {
    name: 'address parameter',
    query: { address: 'ADDRESS_5' },
    expected: () => positions('stream_id = $1', [`address-${addressIds[5]}`]),
  },
  {
    name: 'correlation id',
    query: { q: 'correlation:batch-1' },
    expected: () => positions(`metadata ->> 'correlationId' = 'batch-1'`),
  },
  {
    name: 'reason text, any case',
    query: { q: 'reason:TYPO' },
    expected: () => positions(`coalesce(metadata ->> 'reason', data ->> 'reason') ILIKE '%typo%'`),
  },
  {
    name: 'free text searches the reason',
    query: { q: '"wrong zip"' },
    expected: () => positions(`coalesce(metadata ->> 'reason', data ->> 'reason') ILIKE '%wrong zip%'`),
  },
  {
    name: 'reason parameter',
    query: { reason: 'moved' },
    expected: () => positions(`coalesce(metadata ->> 'reason', data ->> 'reason') ILIKE '%moved%'`),
  },
  { name: 'city (as of each event)', query: { q: 'city:portland' }, expected: () => cityPositions('Portland') },
  { name: 'city parameter', query: { city: 'Bangor' }, expected: () => cityPositions('Bangor') },
  {
    name: 'everything at once',
    query: { q: 'actor:ada type:AddressChanged created:>=2026-09-10 source:ui city:Portland' },
    expected: async () => {
      const inCity = new Set(await cityPositions('Portland'));
      const rest = await positions(
        `${actorIs(ada)} AND type = 'AddressChanged' AND recorded_at >= '2026-09-10T00:00:00Z' AND metadata ->> 'source' = 'ui'`,
      );
      return rest.filter((p) => inCity.has(p));
    },
  },
  {
    name: 'qualifiers and parameters together',
    query: { q: 'type:AddressCorrected', actor: 'Bob Builder', from: '2026-10-01' },
    expected: () =>
      positions(`${actorIs(bob)} AND type = 'AddressCorrected' AND recorded_at >= '2026-10-01T00:00:00Z'`),
  },
];

function resolve(query: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    out[k] = v.replace(/ADDRESS_(\d+)/g, (_, i) => addressIds[Number(i)]!);
  }
  return out;
}

/** Every page of one walk through the page's data source. */
async function walkDataSource(query: Record<string, string>, limit: number) {
  const params = auditQuerySchema.parse(query);
  const { filter } = parseAuditFilter(params);
  const seen: string[] = [];
  let cursor: AuditCursor | null = null;
  let total: { count: number; exact: boolean } | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const view = await loadAuditView(t.prisma, filter, { cursor, limit });
    total ??= view.total;
    seen.push(...view.rows.map((r) => r.position));
    if (!view.next) break;
    cursor = view.next;
  }
  return { seen, total: total! };
}

/** Every page of one walk through GET /api/audit. */
async function walkApi(query: Record<string, string>, limit: number) {
  const seen: string[] = [];
  let cursor: string | null = null;
  let total: { count: number; exact: boolean } | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const search: URLSearchParams = new URLSearchParams({
      ...query,
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    });
    const res: Awaited<ReturnType<typeof call>> = await call(auditRoute.GET, {
      path: `/api/audit?${search}`,
      as: 'auditor',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    total ??= res.body.total;
    seen.push(...res.body.events.map((e: { position: string }) => e.position));
    if (!res.body.next) break;
    cursor = res.body.next;
  }
  return { seen, total: total! };
}

describe('every filter and qualifier returns exactly what SQL returns', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const query = resolve(c.query);
      const expected = await c.expected();
      if (c.name !== 'no filter')
        expect(expected.length, 'the seed should give this case some rows').toBeGreaterThan(0);
      const viaPage = await walkDataSource(query, 7);
      expect(viaPage.seen).toEqual(expected);
      expect(viaPage.total).toEqual({ count: expected.length, exact: true });
      const viaApi = await walkApi(query, 11);
      expect(viaApi.seen).toEqual(expected);
      expect(viaApi.total).toEqual({ count: expected.length, exact: true });
    });
  }
});

describe('rows in domain language', () => {
  it('describes a change with its before and after values, the actor, how they acted and a link target', async () => {
    const res = await call(auditRoute.GET, { path: '/api/audit', body: undefined, as: 'operator' });
    expect(res.status).toBe(403);
    const id = randomUUID();
    const api = actorOf('operator');
    const meta = () => ({
      commandId: randomUUID(),
      correlationId: 'describe-test',
      actor: api,
      source: 'api' as const,
    });
    await ledger().handle({
      type: 'RegisterAddress',
      data: { addressId: id, fields: { line1: '80 Third Street', city: 'Auburn', postalCode: '04210', country: 'US' } },
      metadata: meta(),
    });
    await ledger().handle({
      type: 'ChangeAddress',
      data: { addressId: id, changes: { postalCode: '04211' }, reason: 'new ZIP from USPS' },
      metadata: meta(),
    });
    await waitForAllEventsVisible(t.pool);
    const page = await call(auditRoute.GET, { path: `/api/audit?q=address:${id}`, as: 'auditor' });
    expect(page.status).toBe(200);
    const [changed, registered] = page.body.events;
    expect(changed).toMatchObject({
      addressId: id,
      version: 2,
      type: 'AddressChanged',
      label: 'Changed',
      summary: 'Postal code 04210 → 04211',
      changes: [{ field: 'postalCode', before: '04210', after: '04211' }],
      actor: api,
      via: { kind: 'token', name: 'test-operator' },
      source: 'api',
      reason: 'new ZIP from USPS',
      correlationId: 'describe-test',
    });
    expect(registered).toMatchObject({ version: 1, label: 'Registered', summary: expect.stringContaining('Auburn') });
  });

  it('reads old event shapes through the upcasters and says how each seeded actor acted', async () => {
    const v1 = await t.pool.query(
      `SELECT stream_id FROM events WHERE type = 'AddressRegistered' AND schema_version = 1 LIMIT 1`,
    );
    const id = addressIdFromStream(v1.rows[0].stream_id);
    const page = await call(auditRoute.GET, { path: `/api/audit?address=${id}&limit=200`, as: 'admin' });
    const registered = page.body.events.at(-1);
    expect(registered.type).toBe('AddressRegistered');
    expect(registered.changes.map((c: { field: string }) => c.field)).toEqual(
      expect.arrayContaining(['line1', 'city', 'postalCode', 'country']),
    );
    const expectations = [
      [ada, 'session', 'Ada'],
      [AUDIT_ACTORS.importer, 'token', 'importer'],
      [AUDIT_ACTORS.seed, 'system', 'Demo data'],
    ] as const;
    for (const [actor, kind, name] of expectations) {
      const res = await call(auditRoute.GET, {
        path: `/api/audit?actor=${encodeURIComponent(actor.id)}&limit=1`,
        as: 'admin',
      });
      expect(res.body.events[0].via).toEqual({ kind, name });
    }
  });
});

describe('paging while events arrive', () => {
  it('returns each event of the first page’s snapshot exactly once, and none that committed later', async () => {
    await waitForAllEventsVisible(t.pool);
    const before = await positions('true');
    // A writer that has taken a position but not committed when the walk starts.
    const late = await t.ownerPool.connect(); // a raw row: the owner's right, not the app's
    try {
      await late.query('BEGIN');
      await late.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
         VALUES ($1, 1, $2, 'AddressRegistered', 2, $3, $4)`,
        [
          `address-${randomUUID()}`,
          randomUUID(),
          { addressId: randomUUID(), line1: '1 Late Lane', city: 'Portland', postalCode: '04101', country: 'US' },
          { actor: ada, commandId: randomUUID(), correlationId: 'late', source: 'ui' },
        ],
      );
      const params = auditQuerySchema.parse({});
      const { filter } = parseAuditFilter(params);
      const first = await loadAuditView(t.prisma, filter, { limit: 10 });
      const seen = first.rows.map((r) => r.position);
      // Now the late one commits, and a new event is appended, both mid-walk.
      await late.query('COMMIT');
      await ledger().handle({
        type: 'RegisterAddress',
        data: {
          addressId: randomUUID(),
          fields: { line1: '2 New Road', city: 'Auburn', postalCode: '04210', country: 'US' },
        },
        metadata: { commandId: randomUUID(), correlationId: randomUUID(), actor: ada, source: 'ui' },
      });
      let cursor = first.next;
      while (cursor) {
        const page = await loadAuditView(t.prisma, filter, { cursor, limit: 10 });
        seen.push(...page.rows.map((r) => r.position));
        cursor = page.next;
      }
      expect(seen).toEqual(before);
      // A new walk sees both.
      await waitForAllEventsVisible(t.pool);
      const fresh = await walkDataSource({}, 200);
      expect(fresh.seen.length).toBe(before.length + 2);
    } finally {
      late.release();
    }
  });
});

describe('indexes', () => {
  it('the reason filter can use the partial index, which holds only events with a reason', async () => {
    // The index's predicate (a reason IS NOT NULL, migration 20261206010000) must follow from the
    // filter's own expression, or every reason search would read the whole log. With sequential
    // scans priced out, the plan names the index exactly when the planner may use it.
    const { filter } = parseAuditFilter({ q: 'reason:zip' });
    const plan = await t.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      return tx.$queryRaw<{ 'QUERY PLAN': string }[]>(
        Prisma.sql`EXPLAIN SELECT count(*) FROM events e WHERE ${Prisma.join(filterConditions(filter), ' AND ')}`,
      );
    });
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('events_audit_reason_trgm_idx');
    const { rows: predicate } = await t.ownerPool.query<{ partial: boolean }>(
      `SELECT indpred IS NOT NULL AS partial FROM pg_index WHERE indexrelid = 'events_audit_reason_trgm_idx'::regclass`,
    );
    expect(predicate).toEqual([{ partial: true }]);
    const { rows } = await t.ownerPool.query<{ indexed: number; without: number }>(
      `SELECT (SELECT count(*)::int FROM events WHERE coalesce(metadata ->> 'reason', data ->> 'reason') IS NOT NULL) AS indexed,
              (SELECT count(*)::int FROM events WHERE coalesce(metadata ->> 'reason', data ->> 'reason') IS NULL) AS without`,
    );
    // The seeded log has events with and without a reason, so the filter has both to tell apart.
    expect(rows[0]!.indexed).toBeGreaterThan(0);
    expect(rows[0]!.without).toBeGreaterThan(0);
  });
});

describe('a total without a full count', () => {
  it('says "more than N" when the count reaches the cap', async () => {
    const { countAudit, startCursor } = await import('../audit/_lib/audit-log.server');
    const { snapshot } = await startCursor(t.prisma);
    const all = (await positions('true')).length;
    const { filter } = parseAuditFilter(auditQuerySchema.parse({}));
    expect(await countAudit(t.prisma, filter, snapshot, 50)).toEqual({ count: 50, exact: false });
    expect(await countAudit(t.prisma, filter, snapshot, all)).toEqual({ count: all, exact: true });
  });
});

describe('bad input is a 422 naming what is wrong', () => {
  const bad: [string, string, RegExp][] = [
    ['q=foo:bar', 'q', /unknown qualifier "foo:"/],
    ['q=type:Nope', 'q', /type:Nope is not an event type/],
    ['q=source:fax', 'q', /source:fax/],
    ['q=created:yesterday', 'q', /created:yesterday is not a date range/],
    ['q=address:12', 'q', /address:12 is not an address id/],
    ['q=actor:', 'q', /"actor:" needs a value/],
    ['type=Nope', 'type', /type:Nope/],
    ['cursor=bm9wZQ', 'cursor', /cursor/],
    ['limit=0', 'limit', /./],
    ['colour=red', 'colour', /colour/],
  ];
  for (const [query, path, message] of bad) {
    it(query, async () => {
      const res = await call(auditRoute.GET, { path: `/api/audit?${query}`, as: 'auditor' });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.issues[0].path).toBe(path);
      expect(res.body.error.message).toMatch(message);
    });
  }

  it('does not accept a cursor it did not hand out', () => {
    expect(decodeAuditCursor('not a cursor!')).toBeNull();
  });
});

describe('the access trail', () => {
  it('records each /api/audit page with who, the filter and the row count', async () => {
    await call(auditRoute.GET, { path: '/api/audit?q=type:AddressArchived&limit=3', as: 'auditor' });
    await accessLog().flush();
    const { rows } = await t.pool.query(
      `SELECT actor_id, actor_role, action, filter, row_count FROM access_log WHERE filter ->> 'q' = 'type:AddressArchived'`,
    );
    expect(rows).toEqual([
      {
        actor_id: actorOf('auditor').id,
        actor_role: 'auditor',
        action: 'audit.page',
        filter: { q: 'type:AddressArchived', page: 'first' },
        row_count: 3,
      },
    ]);
  });

  it("is read through GET /api/audit/access with the page's filters, newest first, in keyset pages", async () => {
    for (const q of ['type:AddressRestored', 'type:AddressChanged', 'source:import']) {
      await call(auditRoute.GET, { path: `/api/audit?q=${encodeURIComponent(q)}&limit=1`, as: 'admin' });
    }
    await accessLog().flush();
    const actor = encodeURIComponent(actorOf('admin').name);
    const first = await call(accessRoute.GET, {
      path: `/api/audit/access?action=audit.page&actor=${actor}`,
      as: 'auditor',
    });
    expect(first.status).toBe(200);
    const queries = first.body.records.map((r: { filter: { q: string } }) => r.filter.q);
    // Newest first: the three just made lead (earlier tests' admin pages follow).
    expect(queries.slice(0, 3)).toEqual(['source:import', 'type:AddressChanged', 'type:AddressRestored']);
    expect(first.body.records.every((r: { action: string }) => r.action === 'audit.page')).toBe(true);
    expect(first.body.nextBefore).toBeNull();

    // Pages of one: each record once, then the end.
    const seen: string[] = [];
    let before: string | null = '';
    while (before !== null) {
      const page: { body: { records: { id: string }[]; nextBefore: string | null } } = await call(accessRoute.GET, {
        path: `/api/audit/access?action=audit.page&actor=${actor}&limit=1${before ? `&before=${before}` : ''}`,
        as: 'auditor',
      });
      seen.push(...page.body.records.map((r: { id: string }) => r.id));
      before = page.body.nextBefore;
    }
    expect(seen).toEqual(first.body.records.map((r: { id: string }) => r.id));

    const bad = await call(accessRoute.GET, { path: '/api/audit/access?from=yesterday', as: 'auditor' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(bad.body.error.details)).toContain('from');
    expect((await call(accessRoute.GET, { path: '/api/audit/access', as: 'operator' })).status).toBe(403);
  });

  it('is refused UPDATE, DELETE and TRUNCATE by the database', async () => {
    await accessLog().flush();
    const count = async () => (await t.pool.query('SELECT count(*)::int AS n FROM access_log')).rows[0].n;
    const n = await count();
    expect(n).toBeGreaterThan(0);
    // Even the owner (the app's role has no such grant at all: lib/database-roles.int.spec.ts).
    await expect(t.ownerPool.query(`UPDATE access_log SET row_count = 0`)).rejects.toThrow(/append-only: UPDATE/);
    await expect(t.ownerPool.query(`DELETE FROM access_log`)).rejects.toThrow(/append-only: DELETE/);
    await expect(t.ownerPool.query(`TRUNCATE access_log`)).rejects.toThrow(/append-only: TRUNCATE/);
    expect(await count()).toBe(n);
  });
});
