/// <reference types="vite/client" />
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRunsEnded } from '@/lib/import-jobs';
import { seedAddress, seedParkedAddress, thirdStreet } from '@/test/addresses';
import { credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { seedImportRun } from '@/test/imports';

/*
 * Hostile input, table-driven: every route handler under app/api (discovered from the file
 * system, like app/api/authz.int.spec.ts) gets a corpus of hostile values in every parameter it
 * has — path, query, body fields, headers — one at a time, on an otherwise valid request. None
 * may answer 5xx, and every refusal must be the documented error shape with a documented code.
 *
 * Adding a route: add a row to PARAMETERS with a valid request and the names of its parameters;
 * the first test fails until every discovered route has one.
 */

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
const routeModules = import.meta.glob<Record<string, unknown>>('./**/route.ts', { eager: true });
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

type Exported = Handler & { refusesEveryCall?: true };
/** `PATCH /api/addresses/[id]` → what the route file exports for it. */
const exported = new Map<string, Exported | undefined>();
/** The handlers that do work (not the 405 answers or the catch-all's 404). */
const discovered = new Map<string, Handler>();
for (const [file, mod] of Object.entries(routeModules)) {
  const routePath = `/api/${file.replace(/^\.\//, '').replace(/\/?route\.ts$/, '')}`.replace(/\/$/, '');
  for (const method of HTTP_METHODS) {
    const fn = mod[method] as Exported | undefined;
    exported.set(`${method} ${routePath}`, typeof fn === 'function' ? fn : undefined);
    if (typeof fn === 'function' && !fn.refusesEveryCall) discovered.set(`${method} ${routePath}`, fn);
  }
}

const DOCUMENTED_CODES = new Set([
  'duplicate_address',
  'validation_failed',
  'version_conflict',
  'rule_violated',
  'not_found',
  'method_not_allowed',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'idempotency_key_reused',
  'unsupported_media_type',
  'rate_limited',
  'import_running',
]);

const CATCH_ALL = '/api/[...path]';

/** Text that has broken a route before, or could: NUL, lone surrogates, numbers past int4/int8, far dates. */
const HOSTILE_TEXT = [
  '\u0000',
  'Main\u0000Street',
  '\ud800',
  '\udfff',
  'a\udbffb',
  '\u200b',
  '\u202e',
  '\uffff',
  '2147483648',
  '-2147483649',
  '9223372036854775808',
  '18446744073709551616',
  '1e400',
  '-0',
  '0x10',
  'NaN',
  'Infinity',
  '0000-01-01T00:00:00Z',
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
  '9999-12-31T23:59:60Z',
  '1-9223372036854775808',
  '18446744073709551616-1',
  '99999999999999999999-9999999999999999999',
  '%00',
  '%ED%A0%80',
  ' ',
  '',
  '../../etc/passwd',
  "' OR 1=1 --",
  'x'.repeat(70_000),
];

/** Non-text JSON values for body fields. */
const HOSTILE_JSON: unknown[] = [null, true, 0, -1, 1.5, 2 ** 31, 2 ** 53, 2 ** 63, -(2 ** 63), [], {}, ['\u0000']];

/** Header values a client can actually send (no CR, LF or NUL: HTTP cannot carry them). */
const HOSTILE_HEADERS = [
  'x',
  ' ',
  '0-0, 1-1',
  '1-9223372036854775808',
  '18446744073709551616-1',
  '99999999999999999999-1',
  '2147483648',
  'ÿ'.repeat(300),
  'a'.repeat(9_000),
  '%00',
];

interface BaseCall {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  /** A body that is not JSON (an uploaded file), with its content type. */
  rawBody?: { text: string; type: string };
}

interface ParameterSpec {
  /** A valid request; called again for every hostile value, so a write never sees stale state. */
  prepare: () => Promise<BaseCall>;
  path?: string[];
  query?: string[];
  /** Dotted paths into the JSON body (`changes.line1`). */
  body?: string[];
  headers?: string[];
  /** Parameters for which every hostile value must be refused (4xx), e.g. cursors of a live stream. */
  refuseAll?: string[];
  /** Values of one parameter tried besides the shared corpus: the forms its parser reads. */
  extraValues?: Record<string, string[]>;
  /** Whole bodies to send in place of a file upload's (`rawBody`). */
  files?: string[];
}

const FIELDS = thirdStreet;
const FIELD_NAMES = ['line1', 'line2', 'city', 'region', 'postalCode', 'country', 'owner'];
const WRITE_HEADERS = ['Idempotency-Key', 'Content-Type', 'X-Correlation-Id', 'Origin', 'Authorization'];
const READ_HEADERS = ['Origin', 'Authorization', 'X-Forwarded-For', 'X-Forwarded-Host'];

const address = (state?: 'fresh' | 'changed' | 'archived') =>
  seedAddress({ id: 'hostile-setup', name: 'Hostile setup', role: 'admin' }, state);
const parked = () => seedParkedAddress({ id: 'hostile-setup', name: 'Hostile setup', role: 'admin' });

const IMPORT_HEADER = 'id,house_number,street,unit,city,district,region,region_code,postal_code,country,lat,lon,source';

const PARAMETERS: Record<string, ParameterSpec> = {
  'GET /api/health': { prepare: async () => ({}), query: ['details'], headers: READ_HEADERS },
  'POST /api/addresses': {
    prepare: async () => ({ body: FIELDS() }),
    body: FIELD_NAMES,
    headers: WRITE_HEADERS,
  },
  'GET /api/addresses': {
    prepare: async () => ({ query: { q: 'Auburn' } }),
    query: ['q', 'country', 'region', 'city', 'postalCode', 'status', 'sort', 'page', 'perPage'],
    headers: READ_HEADERS,
    // Countries and regions are read by name and code (projections/search/filter-forms.ts); a value
    // that names nothing is a validation_failed (country) or an unmatched filter (region), never a 500.
    extraValues: {
      q: ['mian street', 'zzzz yyyy xxxx', 'a'.repeat(200), 'ß'.repeat(64), "'main':* | !x", 'st & | ! ( ) :*'],
      country: ['USA', 'usa', 'United States', 'Atlantis', 'ZZ', 'XYZ', 'U.S.A.', "Côte d'Ivoire", 'x'.repeat(101)],
      region: ['Maine', 'US-ME', 'maine', 'Mainee', 'ME', '%', '_', '\\', "' OR 1=1 --", 'é'.repeat(101)],
      city: ['Nowhere', '%', '_'],
      postalCode: ['%', '_', '\\', '0'.repeat(21)],
    },
  },
  'GET /api/addresses/[id]': {
    prepare: async () => ({ params: { id: (await address()).id } }),
    path: ['id'],
    query: ['minVersion'],
    headers: READ_HEADERS,
  },
  'PATCH /api/addresses/[id]': {
    prepare: async () => {
      const a = await address();
      return {
        params: { id: a.id },
        body: { expectedVersion: a.version, changes: { line1: '90 Third Street' }, reason: 'moved' },
      };
    },
    path: ['id'],
    body: ['expectedVersion', 'changes', 'reason', ...FIELD_NAMES.map((f) => `changes.${f}`)],
    headers: WRITE_HEADERS,
  },
  'POST /api/addresses/[id]/corrections': {
    prepare: async () => {
      const a = await address();
      return {
        params: { id: a.id },
        body: { expectedVersion: a.version, corrects: 1, fields: { line1: '18 Third Street' }, reason: 'typo' },
      };
    },
    path: ['id'],
    body: ['expectedVersion', 'corrects', 'fields', 'reason', ...FIELD_NAMES.map((f) => `fields.${f}`)],
    headers: WRITE_HEADERS,
  },
  'POST /api/addresses/[id]/revert': {
    prepare: async () => {
      const a = await address('changed');
      return { params: { id: a.id }, body: { expectedVersion: a.version, version: 2, reason: 'wrong address' } };
    },
    path: ['id'],
    body: ['expectedVersion', 'version', 'reason'],
    headers: WRITE_HEADERS,
  },
  'POST /api/addresses/[id]/archive': {
    prepare: async () => {
      const a = await address();
      return { params: { id: a.id }, body: { expectedVersion: a.version, reason: 'demolished' } };
    },
    path: ['id'],
    body: ['expectedVersion', 'reason'],
    headers: WRITE_HEADERS,
  },
  'POST /api/addresses/[id]/restore': {
    prepare: async () => {
      const a = await address('archived');
      return { params: { id: a.id }, body: { expectedVersion: a.version, reason: 'rebuilt' } };
    },
    path: ['id'],
    body: ['expectedVersion', 'reason'],
    headers: WRITE_HEADERS,
  },
  'GET /api/addresses/[id]/events': {
    prepare: async () => ({ params: { id: (await address('changed')).id } }),
    path: ['id'],
    query: ['fromVersion', 'limit'],
    headers: READ_HEADERS,
  },
  'GET /api/addresses/[id]/state': {
    prepare: async () => ({ params: { id: (await address('changed')).id }, query: { version: '1' } }),
    path: ['id'],
    query: ['version', 'at'],
    headers: READ_HEADERS,
  },
  'GET /api/audit': {
    prepare: async () => ({ query: { limit: '5' } }),
    query: [
      'q',
      'actor',
      'type',
      'source',
      'from',
      'to',
      'address',
      'correlation',
      'reason',
      'city',
      'cursor',
      'limit',
    ],
    headers: READ_HEADERS,
  },
  'GET /api/audit/export': {
    prepare: async () => ({ query: { format: 'ndjson', q: 'type:AddressArchived' } }),
    query: ['format', 'q', 'actor', 'type', 'source', 'from', 'to', 'address', 'correlation', 'reason', 'city'],
    headers: READ_HEADERS,
  },
  'GET /api/audit/access': {
    prepare: async () => ({ query: { action: 'audit.page' } }),
    query: ['actor', 'action', 'address', 'from', 'to', 'before', 'limit'],
    headers: READ_HEADERS,
  },
  'GET /api/events': {
    prepare: async () => ({ query: { limit: '5' } }),
    query: ['after', 'limit', 'types'],
    headers: READ_HEADERS,
  },
  'GET /api/events/stream': {
    prepare: async () => ({}),
    query: ['after', 'types'],
    headers: ['Last-Event-ID', ...READ_HEADERS],
    // A cursor the feed cannot resume from must be refused before the stream opens: once it has
    // answered 200 the only way left to fail is to drop the stream, and EventSource reconnects.
    refuseAll: ['after', 'Last-Event-ID'],
  },
  'GET /api/projections': { prepare: async () => ({}), headers: READ_HEADERS },
  'POST /api/projections/parked/[id]/retry': {
    prepare: async () => ({ params: { id: (await parked()).id }, body: { reason: 'upcaster fixed' } }),
    path: ['id'],
    body: ['reason'],
    headers: WRITE_HEADERS,
  },
  'POST /api/projections/parked/[id]/skip': {
    prepare: async () => ({ params: { id: (await parked()).id }, body: { reason: 'written by a broken importer' } }),
    path: ['id'],
    body: ['reason'],
    headers: WRITE_HEADERS,
  },
  // Each request is its own source: one run per source at a time would answer the rest 409.
  'POST /api/imports': {
    // The run before has ended: a hundred uploads at once would each hold a connection.
    prepare: async () => {
      await importRunsEnded();
      return {
        query: { source: `hostile-${randomUUID().slice(0, 8)}`, filename: 'hostile.csv' },
        rawBody: { text: `${IMPORT_HEADER}\n1,5,Main Street,,Portland,,Maine,ME,04101,US,,,x\n`, type: 'text/csv' },
      };
    },
    query: ['source', 'filename'],
    headers: WRITE_HEADERS,
    files: [
      '',
      '\u0000',
      '\ufeff',
      IMPORT_HEADER,
      `${IMPORT_HEADER}\n\u0000,\ud800,\u202e,=HYPERLINK("x"),${'x'.repeat(70_000)}`,
      `${IMPORT_HEADER}\n"unclosed`,
      '"a,b\n',
      `${IMPORT_HEADER}\n${'1,2,3\n'.repeat(5)}`,
      'street,city,postal_code,country,street,street\n1,2,3,4,5,6\n',
    ],
  },
  'GET /api/imports/[id]': {
    prepare: async () => ({ params: { id: await importRun() } }),
    path: ['id'],
    headers: READ_HEADERS,
  },
  'GET /api/imports/[id]/report': {
    prepare: async () => ({ params: { id: await importRun() } }),
    path: ['id'],
    headers: READ_HEADERS,
  },
};

const importRun = () => seedImportRun(t.prisma, { id: 'hostile-setup', name: 'Hostile setup' });

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  await provisionCallers(t.prisma);
});
afterAll(async () => {
  await importRunsEnded();
  await t?.drop();
});

function withValue(body: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  const keys = dotted.split('.');
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  target[keys.at(-1)!] = value;
  return copy;
}

/** A URL carries UTF-8: a lone surrogate arrives as U+FFFD (the handler still gets the raw value as its param). */
const encodePart = (part: unknown) => encodeURIComponent(String(part).replace(/\p{Cs}/gu, '\uFFFD'));

function pathOf(key: string, params: Record<string, string | string[]>): string {
  return key
    .split(' ')[1]!
    .replace(/\[\.\.\.(\w+)\]/g, (_, name) => [params[name]].flat().map(encodePart).join('/'))
    .replace(/\[(\w+)\]/g, (_, name) => encodePart(String(params[name])));
}

interface Variation {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

async function send(key: string, base: BaseCall, change: Variation): Promise<{ status: number; body: unknown }> {
  const [method] = key.split(' ') as [string];
  const params = { ...base.params, ...change.params };
  const url = new URL(`http://localhost${pathOf(key, params)}`);
  for (const [k, v] of Object.entries({ ...base.query, ...change.query })) url.searchParams.set(k, v);
  const json = change.body ?? base.body;
  const body =
    change.rawBody !== undefined
      ? change.rawBody
      : base.rawBody
        ? base.rawBody.text
        : json === undefined
          ? undefined
          : JSON.stringify(json);
  const headers = new Headers({
    ...(body !== undefined ? { 'content-type': base.rawBody?.type ?? 'application/json' } : {}),
    ...credentials(
      key.startsWith('GET /api/events') || key.startsWith('GET /api/audit')
        ? 'auditor'
        : key.startsWith('GET /api/health') || key.startsWith('POST /api/projections')
          ? 'admin'
          : 'operator',
    ),
  });
  for (const [k, v] of Object.entries(change.headers ?? {})) headers.set(k, v);
  const handler = discovered.get(key)!;
  const path = (params as { path?: unknown }).path;
  const response = await handler(
    new Request(url, { method, headers, body }),
    // A catch-all's params are an array of segments.
    { params: Promise.resolve(path === undefined ? params : ({ ...params, path: [path].flat() } as never)) },
  );
  const type = response.headers.get('content-type') ?? '';
  // Only a JSON document is parsed: an NDJSON export is many documents, read as text below.
  if (type.startsWith('application/json')) return { status: response.status, body: await response.json() };
  await response.body?.cancel();
  return { status: response.status, body: null };
}

function problem(result: { status: number; body: unknown }, mustRefuse: boolean): string | null {
  if (result.status >= 500) return `answered ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`;
  if (mustRefuse && result.status < 400) return `answered ${result.status} instead of refusing it`;
  if (result.status >= 400) {
    const error = (result.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
      return `answered ${result.status} without the documented error shape: ${JSON.stringify(result.body)}`;
    }
    if (!DOCUMENTED_CODES.has(error.code)) return `answered an undocumented code ${error.code}`;
  }
  return null;
}

const show = (v: unknown) => {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
};

describe('hostile input to every route', () => {
  it('has a row in PARAMETERS for every route handler the app exports', () => {
    expect(
      [...discovered.keys()].filter((k) => !(k in PARAMETERS)),
      'add these routes to PARAMETERS with a valid request and their parameter names',
    ).toEqual([]);
  });

  it('answers every method of every route file: a handler, or 405 with Allow, in the documented shape', async () => {
    const failures: string[] = [];
    for (const [key, fn] of exported) {
      const [method, route] = key.split(' ') as [string, string];
      // Next answers HEAD with GET when a file has GET; every other method needs an export.
      if (!fn) {
        if (!(method === 'HEAD' && exported.get(`GET ${route}`)))
          failures.push(`${key}: not exported (Next's empty 405)`);
        continue;
      }
      if (!fn.refusesEveryCall) continue;
      const response = await fn(new Request(`http://localhost${route.replace(/\[[^\]]+\]/g, 'x')}`, { method }), {
        params: Promise.resolve({}),
      });
      const body = method === 'HEAD' || response.status === 204 ? null : await response.json();
      const want = route === CATCH_ALL ? 404 : method === 'OPTIONS' ? 204 : 405;
      if (response.status !== want) failures.push(`${key}: ${response.status}, want ${want}`);
      if (
        want === 405 &&
        ((method !== 'HEAD' && body?.error?.code !== 'method_not_allowed') || !response.headers.get('allow'))
      ) {
        failures.push(`${key}: 405 without the documented shape or Allow: ${JSON.stringify(body)}`);
      }
      if (want === 204 && !response.headers.get('allow')?.includes('OPTIONS'))
        failures.push(`${key}: OPTIONS without Allow`);
      if (want === 404 && method !== 'HEAD' && body?.error?.code !== 'not_found')
        failures.push(`${key}: ${JSON.stringify(body)}`);
      if (want === 405 && response.headers.get('allow')?.split(', ').includes(method)) {
        failures.push(`${key}: Allow lists the refused method`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('marks JSON answers as not cacheable', async () => {
    const spec = PARAMETERS['GET /api/addresses/[id]']!;
    const base = await spec.prepare();
    const response = await discovered.get('GET /api/addresses/[id]')!(
      new Request(`http://localhost/api/addresses/${base.params!.id}`, { headers: credentials('operator') }),
      { params: Promise.resolve(base.params!) },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const refused = await discovered.get('GET /api/addresses/[id]')!(
      new Request('http://localhost/api/addresses/nope'),
      { params: Promise.resolve({ id: 'nope' }) },
    );
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  for (const [key, spec] of Object.entries(PARAMETERS)) {
    describe(key, () => {
      it.skipIf(!discovered.has(key))('answers the valid request without an error', async () => {
        const result = await send(key, await spec.prepare(), {});
        expect(problem(result, false)).toBeNull();
      });

      const cases: Array<{ where: string; name: string; values: unknown[]; vary: (v: unknown) => Variation }> = [
        ...(spec.path ?? []).map((name) => ({
          where: 'path',
          name,
          values: HOSTILE_TEXT.filter((v) => v !== ''),
          vary: (v: unknown) => ({ params: { [name]: v as string } }),
        })),
        ...(spec.query ?? []).map((name) => ({
          where: 'query',
          name,
          values: [...HOSTILE_TEXT, ...(spec.extraValues?.[name] ?? [])],
          vary: (v: unknown) => ({ query: { [name]: v as string } }),
        })),
        ...(spec.headers ?? []).map((name) => ({
          where: 'header',
          name,
          values: HOSTILE_HEADERS,
          vary: (v: unknown) => ({ headers: { [name]: v as string } }),
        })),
      ];
      for (const name of spec.body ?? []) {
        cases.push({
          where: 'body',
          name,
          values: [...HOSTILE_TEXT, ...HOSTILE_JSON],
          vary: (v) => ({ body: undefined, _field: name, _value: v }) as Variation,
        });
      }
      if (spec.files) {
        cases.push({
          where: 'body',
          name: '(the uploaded file)',
          values: spec.files,
          vary: (v) => ({ rawBody: v as string }),
        });
      }
      if (spec.body) {
        cases.push({
          where: 'body',
          name: '(whole body)',
          values: ['', 'null', '[]', '"x"', '{', '{"a":1}{', '{"line1":"\\ud800"}', '\u0000', '{"__proto__":{"x":1}}'],
          vary: (v) => ({ rawBody: v as string }),
        });
      }

      for (const c of cases) {
        it.skipIf(!discovered.has(key))(`survives hostile values in the ${c.where} parameter ${c.name}`, async () => {
          const failures: string[] = [];
          const mustRefuse = spec.refuseAll?.includes(c.name) ?? false;
          for (const value of c.values) {
            const base = await spec.prepare();
            let change = c.vary(value) as Variation & { _field?: string; _value?: unknown };
            if (change._field) change = { body: withValue(base.body ?? {}, change._field, change._value) };
            let result: { status: number; body: unknown };
            try {
              result = await send(key, base, change);
            } catch (error) {
              // Headers a fetch client refuses to build cannot reach the server either.
              if (c.where === 'header' && error instanceof TypeError) continue;
              failures.push(`${show(value)}: threw ${String(error)}`);
              continue;
            }
            const p = problem(result, mustRefuse && String(value).trim() !== '');
            if (p) failures.push(`${show(value)}: ${p}`);
          }
          expect(failures).toEqual([]);
        });
      }
    });
  }
});
