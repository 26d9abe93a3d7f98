/// <reference types="vite/client" />
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor, Role } from '@/domain/messages';
import { advisoryLockHeld } from '@/lib/advisory-locks';
import { SESSION_COOKIE } from '@/lib/auth/sessions';
import { signIn } from '@/lib/auth/sign-in';
import { createApiToken, revokeApiToken } from '@/lib/auth/tokens';
import { createUser, disableUser } from '@/lib/auth/users';
import { importRunsEnded } from '@/lib/import-jobs';
import { currentVerification, VERIFY_LOCK_NAME } from '@/lib/integrity/verify-job';
import { currentRebuild, rebuildLockHeld } from '@/projections/rebuild-job';
import { seedAddress, seedParkedAddress, thirdStreet } from '@/test/addresses';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { seedImportRun } from '@/test/imports';
import { actionScope } from '@/test/server-actions';

/*
 * Issue 4's role table, enforced on the server for every route handler and every server action:
 * each is called as anonymous, auditor, operator and admin (by API token and by browser session)
 * and must answer 401 / 403 / success exactly as DESIGN §6 says, without writing anything when it
 * refuses, and with the authenticated caller as the actor of every event it writes.
 *
 * Routes and server actions are discovered from the file system, so a new one without a row in
 * the tables below fails this test instead of going unchecked.
 */

// Server actions run outside Next.js here: give them a request scope we control.
vi.mock('server-only', () => ({}));
vi.mock('next/cache', () => import('@/test/server-actions').then((m) => m.nextCache));
vi.mock('next/headers', () => import('@/test/server-actions').then((m) => m.nextHeaders));

type Caller = 'anonymous' | Role;
type Outcome = 'ok' | 401 | 403;
type Access = 'public' | 'read' | 'write' | 'audit' | 'admin';

/** DESIGN §6, written out by hand (not derived from lib/auth/permissions.ts, which it checks). */
const ROLE_TABLE: Record<Access, Record<Caller, Outcome>> = {
  public: { anonymous: 'ok', auditor: 'ok', operator: 'ok', admin: 'ok' },
  read: { anonymous: 401, auditor: 'ok', operator: 'ok', admin: 'ok' },
  write: { anonymous: 401, auditor: 403, operator: 'ok', admin: 'ok' },
  audit: { anonymous: 401, auditor: 'ok', operator: 403, admin: 'ok' },
  admin: { anonymous: 401, auditor: 403, operator: 403, admin: 'ok' },
};
const CALLERS: Caller[] = ['anonymous', 'auditor', 'operator', 'admin'];
const ROLES: Role[] = ['auditor', 'operator', 'admin'];

let t: TestDatabase;
const SETUP_ACTOR: Actor = { id: 'authz-test-setup', name: 'Authz test setup', role: 'admin' };
const tokens = {} as Record<Role, { secret: string; actor: Actor }>;
const sessions = {} as Record<Role, { cookie: string; actor: Actor }>;

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  for (const role of ROLES) {
    const password = `${role}-password-authz`;
    const email = `${role}@authz.test`;
    const user = await createUser(t.prisma, { email, name: `Authz ${role}`, role, password });
    const signedIn = await signIn(t.prisma, { email, password, ip: '127.0.0.1' });
    if (!signedIn.ok) throw new Error(signedIn.message);
    sessions[role] = { cookie: signedIn.sealedSession, actor: { id: user.id, name: user.name, role } };
    const created = await createApiToken(t.prisma, { name: `authz-${role}`, role }, null);
    tokens[role] = {
      secret: created.secret,
      actor: { id: `token:${created.token.id}`, name: `authz-${role} (API token)`, role },
    };
  }
});
afterAll(async () => {
  await importRunsEnded();
  await t?.drop();
});

// ── Fixtures: fresh addresses in the state each command needs ───────────────────────────────────

const fields = thirdStreet;

const address = (state?: 'fresh' | 'changed' | 'archived') => seedAddress(SETUP_ACTOR, state);

async function eventCount(): Promise<number> {
  return (await t.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n;
}

async function lastEventActor(): Promise<Actor & { source: string }> {
  const row = (await t.pool.query('SELECT metadata FROM events ORDER BY position DESC LIMIT 1')).rows[0];
  return { ...row.metadata.actor, source: row.metadata.source };
}

// ── Route handlers ──────────────────────────────────────────────────────────────────────────────

interface RouteCall {
  path: string;
  params?: Record<string, string>;
  body?: unknown;
  /** A body that is not JSON (an uploaded file), with its content type. */
  rawBody?: { text: string; type: string };
  /** Does a success append events (so the actor can be checked)? */
  appends?: boolean;
}

const ROUTE_TABLE: Record<string, { access: Access; prepare: () => Promise<RouteCall> }> = {
  'GET /api/health': { access: 'public', prepare: async () => ({ path: '/api/health' }) },
  'POST /api/addresses': {
    access: 'write',
    prepare: async () => ({ path: '/api/addresses', body: fields(), appends: true }),
  },
  'GET /api/addresses': { access: 'read', prepare: async () => ({ path: '/api/addresses?q=Auburn' }) },
  'GET /api/addresses/[id]': {
    access: 'read',
    prepare: async () => {
      const a = await address();
      return { path: `/api/addresses/${a.id}`, params: { id: a.id } };
    },
  },
  'PATCH /api/addresses/[id]': {
    access: 'write',
    prepare: async () => {
      const a = await address();
      return {
        path: `/api/addresses/${a.id}`,
        params: { id: a.id },
        body: { expectedVersion: a.version, changes: { line1: '90 Third Street' } },
        appends: true,
      };
    },
  },
  'POST /api/addresses/[id]/corrections': {
    access: 'write',
    prepare: async () => {
      const a = await address();
      return {
        path: `/api/addresses/${a.id}/corrections`,
        params: { id: a.id },
        body: { expectedVersion: a.version, corrects: 1, fields: { line1: '18 Third Street' }, reason: 'typo' },
        appends: true,
      };
    },
  },
  'POST /api/addresses/[id]/revert': {
    access: 'write',
    prepare: async () => {
      const a = await address('changed');
      return {
        path: `/api/addresses/${a.id}/revert`,
        params: { id: a.id },
        body: { expectedVersion: a.version, version: 2, reason: 'wrong address' },
        appends: true,
      };
    },
  },
  'POST /api/addresses/[id]/archive': {
    access: 'write',
    prepare: async () => {
      const a = await address();
      return {
        path: `/api/addresses/${a.id}/archive`,
        params: { id: a.id },
        body: { expectedVersion: a.version, reason: 'demolished' },
        appends: true,
      };
    },
  },
  'POST /api/addresses/[id]/restore': {
    access: 'write',
    prepare: async () => {
      const a = await address('archived');
      return {
        path: `/api/addresses/${a.id}/restore`,
        params: { id: a.id },
        body: { expectedVersion: a.version },
        appends: true,
      };
    },
  },
  'GET /api/addresses/[id]/events': {
    access: 'read',
    prepare: async () => {
      const a = await address('changed');
      return { path: `/api/addresses/${a.id}/events`, params: { id: a.id } };
    },
  },
  'GET /api/addresses/[id]/state': {
    access: 'read',
    prepare: async () => {
      const a = await address('changed');
      return { path: `/api/addresses/${a.id}/state?version=1`, params: { id: a.id } };
    },
  },
  'GET /api/events': { access: 'audit', prepare: async () => ({ path: '/api/events?limit=5' }) },
  'GET /api/events/stream': { access: 'audit', prepare: async () => ({ path: '/api/events/stream' }) },
  'GET /api/audit': { access: 'audit', prepare: async () => ({ path: '/api/audit?q=type:AddressRegistered&limit=5' }) },
  'GET /api/audit/export': { access: 'audit', prepare: async () => ({ path: '/api/audit/export?format=csv' }) },
  'GET /api/audit/access': { access: 'audit', prepare: async () => ({ path: '/api/audit/access?action=audit.page' }) },
  'GET /api/projections': { access: 'read', prepare: async () => ({ path: '/api/projections' }) },
  'POST /api/projections/parked/[id]/retry': {
    access: 'admin',
    prepare: async () => {
      const a = await seedParkedAddress(SETUP_ACTOR);
      return { path: `/api/projections/parked/${a.id}/retry`, params: { id: a.id }, body: {} };
    },
  },
  'POST /api/projections/parked/[id]/skip': {
    access: 'admin',
    prepare: async () => {
      const a = await seedParkedAddress(SETUP_ACTOR);
      return {
        path: `/api/projections/parked/${a.id}/skip`,
        params: { id: a.id },
        body: { reason: 'written by a broken importer' },
      };
    },
  },
  // The upload's rows are all invalid, so its background run appends nothing that could be
  // mistaken for another row's write; each call is its own source (one run per source at a time).
  'POST /api/imports': {
    access: 'write',
    prepare: async () => {
      // The run before has ended, so no two hold a connection at once.
      await importRunsEnded();
      return {
        path: `/api/imports?source=authz-${randomUUID().slice(0, 8)}`,
        rawBody: { text: 'street,city,postal_code,country\nMain Street,,ABC,XX\n', type: 'text/csv' },
      };
    },
  },
  'GET /api/imports/[id]': {
    access: 'write',
    prepare: async () => {
      const id = await importRun();
      return { path: `/api/imports/${id}`, params: { id } };
    },
  },
  'GET /api/imports/[id]/report': {
    access: 'write',
    prepare: async () => {
      const id = await importRun();
      return { path: `/api/imports/${id}/report`, params: { id } };
    },
  },
};

const importRun = () => seedImportRun(t.prisma, SETUP_ACTOR);

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
const routeModules = import.meta.glob<Record<string, unknown>>('./**/route.ts', { eager: true });
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** `./addresses/[id]/route.ts` + its exported methods → `PATCH /api/addresses/[id]` → handler. */
const discoveredRoutes = new Map<string, Handler>();
for (const [file, mod] of Object.entries(routeModules)) {
  const routePath = `/api/${file.replace(/^\.\//, '').replace(/\/?route\.ts$/, '')}`.replace(/\/$/, '');
  for (const method of HTTP_METHODS) {
    const fn = mod[method] as (Handler & { refusesEveryCall?: true }) | undefined;
    // 405 answers and the /api catch-all's 404 refuse everyone alike (app/api/hostile-inputs.int.spec.ts checks them).
    if (typeof fn === 'function' && !fn.refusesEveryCall) discoveredRoutes.set(`${method} ${routePath}`, fn);
  }
}

type Via = 'token' | 'session';

async function invoke(
  key: string,
  caller: Caller,
  via: Via,
  call: RouteCall,
  extraHeaders: Record<string, string> = {},
) {
  const handler = discoveredRoutes.get(key)!;
  const method = key.split(' ')[0]!;
  const headers: Record<string, string> = {};
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.rawBody) headers['content-type'] = call.rawBody.type;
  if (caller !== 'anonymous') {
    if (via === 'token') headers.authorization = `Bearer ${tokens[caller].secret}`;
    else {
      headers.cookie = `${SESSION_COOKIE}=${encodeURIComponent(sessions[caller].cookie)}`;
      // A browser sends Origin with every non-GET fetch from this site.
      headers.origin = 'http://localhost';
    }
  }
  Object.assign(headers, extraHeaders);
  const response = await handler(
    new Request(`http://localhost${call.path}`, {
      method,
      headers,
      body: call.rawBody?.text ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
    }),
    { params: Promise.resolve(call.params ?? {}) },
  );
  const type = response.headers.get('content-type') ?? '';
  // A live feed never ends: its status is all this test needs.
  let body = null;
  if (type.includes('json')) body = await response.json();
  else await response.body?.cancel();
  return { status: response.status, body };
}

function expectOutcome(status: number, body: { error?: { code?: string } } | null, expected: Outcome) {
  if (expected === 'ok') {
    expect(status, JSON.stringify(body)).toBeGreaterThanOrEqual(200);
    expect(status, JSON.stringify(body)).toBeLessThan(300);
  } else {
    expect(status).toBe(expected);
    expect(body?.error?.code).toBe(expected === 401 ? 'unauthorized' : 'forbidden');
  }
}

describe('route handlers', () => {
  it('has a row in the role table for every route handler the app exports', () => {
    const missing = [...discoveredRoutes.keys()].filter((key) => !(key in ROUTE_TABLE));
    expect(missing, 'add these routes to ROUTE_TABLE with their access level').toEqual([]);
  });

  it('has a route handler for every row of the role table', () => {
    // A row for a route that does not exist (renamed, removed, mistyped) would otherwise test nothing.
    const stale = Object.keys(ROUTE_TABLE).filter((key) => !discoveredRoutes.has(key));
    expect(stale, 'these rows name no route handler').toEqual([]);
  });

  for (const [key, spec] of Object.entries(ROUTE_TABLE)) {
    describe(key, () => {
      // A row without a handler fails the check above; there is nothing to call here.
      if (!discoveredRoutes.has(key)) return;
      for (const caller of CALLERS) {
        for (const via of caller === 'anonymous' ? (['token'] as Via[]) : (['token', 'session'] as Via[])) {
          const expected = ROLE_TABLE[spec.access][caller];
          const label = caller === 'anonymous' ? 'anonymous' : `${caller} by ${via}`;
          it(`answers ${expected === 'ok' ? 'with success' : expected} to ${label}`, async () => {
            const call = await spec.prepare();
            const before = await eventCount();
            const { status, body } = await invoke(key, caller, via, call);
            expectOutcome(status, body, expected);
            const after = await eventCount();
            if (expected !== 'ok' || !call.appends) {
              expect(after, 'a refused or read-only request must not append').toBe(before);
            } else {
              expect(after).toBeGreaterThan(before);
              const actor =
                caller === 'anonymous' ? null : via === 'token' ? tokens[caller].actor : sessions[caller].actor;
              expect(await lastEventActor()).toEqual({ ...actor, source: 'api' });
            }
          });
        }
      }
    });
  }
});

describe('who the actor is', () => {
  it('ignores an X-Actor header: anonymous stays 401 and a token writes as itself', async () => {
    const forged = { 'x-actor': 'mallory;Mallory;admin' };
    const anonymous = await invoke(
      'POST /api/addresses',
      'anonymous',
      'token',
      { path: '/api/addresses', body: fields() },
      forged,
    );
    expect(anonymous.status).toBe(401);
    const asOperator = await invoke(
      'POST /api/addresses',
      'operator',
      'token',
      { path: '/api/addresses', body: fields() },
      forged,
    );
    expect(asOperator.status).toBe(201);
    expect(await lastEventActor()).toEqual({ ...tokens.operator.actor, source: 'api' });
  });

  it('refuses a cookie-authenticated write from another site', async () => {
    const before = await eventCount();
    const res = await invoke(
      'POST /api/addresses',
      'operator',
      'session',
      { path: '/api/addresses', body: fields() },
      {
        origin: 'https://evil.example',
      },
    );
    expect(res.status).toBe(403);
    expect(await eventCount()).toBe(before);
  });

  it('refuses a revoked token and a disabled user on their very next request', async () => {
    const token = await createApiToken(t.prisma, { name: 'authz-soon-revoked', role: 'operator' }, null);
    const user = await createUser(t.prisma, {
      email: 'soon-disabled@authz.test',
      name: 'Soon Disabled',
      role: 'operator',
      password: 'soon-disabled-password',
    });
    const login = await signIn(t.prisma, { email: user.email, password: 'soon-disabled-password', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.message);
    const post = (headers: Record<string, string>) =>
      invoke(
        'POST /api/addresses',
        'anonymous',
        'token',
        { path: '/api/addresses', body: fields() },
        {
          ...headers,
          origin: 'http://localhost',
        },
      );
    const byToken = { authorization: `Bearer ${token.secret}` };
    const bySession = { cookie: `${SESSION_COOKIE}=${encodeURIComponent(login.sealedSession)}` };

    expect((await post(byToken)).status).toBe(201);
    expect((await post(bySession)).status).toBe(201);
    await revokeApiToken(t.prisma, token.token.id);
    await disableUser(t.prisma, user.id);
    const before = await eventCount();
    expect(await post(byToken)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await post(bySession)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(await eventCount()).toBe(before);
  });
});

// ── Server actions ──────────────────────────────────────────────────────────────────────────────

type ActionFn = (previous: unknown, formData: FormData) => Promise<unknown>;
type ActionOutcome = 'ok' | 'unauthorized' | 'forbidden' | `other: ${string}`;

function form(values: Record<string, string | number>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(values)) f.set(k, String(v));
  return f;
}

/** Runs an action, turning Next's redirect (thrown) into the URL it redirects to. */
async function runAction(fn: ActionFn, data: FormData): Promise<unknown> {
  try {
    return await fn({}, data);
  } catch (error) {
    const digest = (error as { digest?: string }).digest;
    if (typeof digest === 'string' && digest.startsWith('NEXT_REDIRECT')) return { redirect: digest.split(';')[2] };
    throw error;
  }
}

/** Every server action answers the one FormState shape (app/_lib/form-state.ts). */
const formOutcome = (r: unknown): ActionOutcome => {
  const result = r as { status?: string; message?: string; redirect?: string };
  if (result.redirect || result.status === 'ok') return 'ok';
  if (result.status === 'forbidden')
    return /session has ended/i.test(result.message ?? '') ? 'unauthorized' : 'forbidden';
  return `other: ${JSON.stringify(result)}`;
};
interface ActionSpec {
  access: Access;
  outcome: (result: unknown) => ActionOutcome;
  prepare: () => Promise<{
    data: FormData;
    appends?: boolean;
    unchanged?: () => Promise<unknown>;
    /** Runs after the action whatever it answered, e.g. to wait for background work it started. */
    settle?: () => Promise<unknown>;
  }>;
}

async function victim() {
  const user = await createUser(t.prisma, {
    email: `victim-${randomUUID()}@authz.test`,
    name: 'Victim',
    role: 'auditor',
    password: 'victim-password-1',
  });
  return {
    user,
    unchanged: async () =>
      expect(await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({
        role: 'auditor',
        disabledAt: null,
      }),
  };
}

async function victimToken() {
  const { token } = await createApiToken(
    t.prisma,
    { name: `victim-${randomUUID().slice(0, 8)}`, role: 'auditor' },
    null,
  );
  return {
    token,
    unchanged: async () =>
      expect(await t.prisma.apiToken.findFirst({ where: { name: token.name, revokedAt: null } })).not.toBeNull(),
  };
}

const userCount = async () => {
  const before = await t.prisma.user.count();
  return async () => expect(await t.prisma.user.count()).toBe(before);
};
const tokenCount = async () => {
  const before = await t.prisma.apiToken.count();
  return async () => expect(await t.prisma.apiToken.count()).toBe(before);
};

const ACTION_TABLE: Record<string, ActionSpec> = {
  'app/addresses/actions.ts#registerAddress': {
    access: 'write',
    outcome: formOutcome,
    prepare: async () => ({ data: form({ ...fields(), token: randomUUID() }), appends: true }),
  },
  'app/addresses/actions.ts#changeAddress': {
    access: 'write',
    outcome: formOutcome,
    prepare: async () => {
      const a = await address();
      return {
        data: form({
          ...fields(),
          line1: '84 Third Street',
          addressId: a.id,
          expectedVersion: a.version,
          token: randomUUID(),
        }),
        appends: true,
      };
    },
  },
  'app/addresses/actions.ts#correctAddress': {
    access: 'write',
    outcome: formOutcome,
    prepare: async () => {
      const a = await address();
      return {
        data: form({
          ...fields(),
          line1: '8 Third Street',
          addressId: a.id,
          expectedVersion: a.version,
          corrects: 1,
          reason: 'typo',
          token: randomUUID(),
        }),
        appends: true,
      };
    },
  },
  'app/addresses/actions.ts#revertChange': {
    access: 'write',
    outcome: formOutcome,
    prepare: async () => {
      const a = await address('changed');
      return {
        data: form({ addressId: a.id, expectedVersion: a.version, version: 2, reason: 'wrong', token: randomUUID() }),
        appends: true,
      };
    },
  },
  'app/addresses/actions.ts#archiveAddress': {
    access: 'write',
    outcome: formOutcome,
    prepare: async () => {
      const a = await address();
      return {
        data: form({ addressId: a.id, expectedVersion: a.version, reason: 'gone', token: randomUUID() }),
        appends: true,
      };
    },
  },
  'app/addresses/actions.ts#restoreAddress': {
    access: 'write',
    outcome: formOutcome,
    prepare: async () => {
      const a = await address('archived');
      return { data: form({ addressId: a.id, expectedVersion: a.version, token: randomUUID() }), appends: true };
    },
  },
  'app/admin/actions.ts#createUserAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => ({
      data: form({
        email: `new-${randomUUID()}@authz.test`,
        name: 'New',
        role: 'operator',
        password: 'new-user-password',
      }),
      unchanged: await userCount(),
    }),
  },
  'app/admin/actions.ts#changeRoleAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => {
      const v = await victim();
      return { data: form({ userId: v.user.id, role: 'admin' }), unchanged: v.unchanged };
    },
  },
  'app/admin/actions.ts#setUserEnabledAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => {
      const v = await victim();
      return { data: form({ userId: v.user.id, enabled: 'false' }), unchanged: v.unchanged };
    },
  },
  'app/admin/actions.ts#createTokenAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => ({
      data: form({ name: `t-${randomUUID().slice(0, 8)}`, role: 'admin' }),
      unchanged: await tokenCount(),
    }),
  },
  'app/admin/actions.ts#revokeTokenAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => {
      const v = await victimToken();
      return { data: form({ tokenId: v.token.id }), unchanged: v.unchanged };
    },
  },
  'app/admin/actions.ts#rotateTokenAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => {
      const v = await victimToken();
      return { data: form({ tokenId: v.token.id }), unchanged: v.unchanged };
    },
  },
  'app/admin/actions.ts#rebuildReadModelsAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => ({
      data: form({}),
      unchanged: async () => {
        expect(currentRebuild()).toBeNull();
        expect(await rebuildLockHeld(t.pool)).toBe(false);
      },
      // The rebuild runs in the background: let it finish so it cannot disturb the tests after it.
      settle: async () => {
        const job = await currentRebuild();
        if (job) expect(job).toMatchObject({ state: 'done', startedBy: { id: sessions.admin.actor.id } });
      },
    }),
  },
  'app/admin/actions.ts#decideParkedAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => {
      const a = await seedParkedAddress(SETUP_ACTOR);
      return {
        data: form({ addressId: a.id, action: 'skip', reason: 'written by a broken importer' }),
        unchanged: async () => {
          const { rows } = await t.pool.query('SELECT 1 FROM parked_stream_decisions WHERE stream_id = $1', [
            `address-${a.id}`,
          ]);
          expect(rows).toHaveLength(0);
        },
      };
    },
  },
  'app/admin/actions.ts#verifyLedgerAction': {
    access: 'admin',
    outcome: formOutcome,
    prepare: async () => ({
      data: form({}),
      unchanged: async () => {
        expect(currentVerification()).toBeNull();
        expect(await advisoryLockHeld(t.pool, VERIFY_LOCK_NAME)).toBe(false);
      },
      // Runs in the background: let it finish and check it ran as the admin who asked.
      settle: async () => {
        const job = await currentVerification();
        if (job) expect(job).toMatchObject({ state: 'done', startedBy: { id: sessions.admin.actor.id } });
      },
    }),
  },
};

/** Sign-in, setup and sign-out work without a session by design; they are covered separately. */
const PUBLIC_ACTIONS = new Set([
  'app/(auth)/actions.ts#signInAction',
  'app/(auth)/actions.ts#setupAction',
  'app/(auth)/actions.ts#signOutAction',
]);

/** Every `'use server'` module under app/, with its exported functions. */
function serverActionFiles(): string[] {
  const root = path.resolve(import.meta.dirname, '..');
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => /\.(ts|tsx)$/.test(f) && !f.includes('.spec.'))
    .filter((f) => /^\s*['"]use server['"]/.test(readFileSync(path.join(root, f), 'utf8')))
    .map((f) => `app/${f.split(path.sep).join('/')}`);
}

const actionModules = import.meta.glob<Record<string, unknown>>(['../**/actions.ts', '../**/*.actions.ts'], {
  eager: true,
});
const discoveredActions = new Map<string, ActionFn>();
for (const [file, mod] of Object.entries(actionModules)) {
  const name = `app/${file.replace(/^\.\.\//, '')}`;
  for (const [exported, fn] of Object.entries(mod)) {
    if (typeof fn === 'function') discoveredActions.set(`${name}#${exported}`, fn as ActionFn);
  }
}

describe('server actions', () => {
  it('has a row in the role table for every exported server action', () => {
    const files = serverActionFiles();
    const loaded = new Set([...discoveredActions.keys()].map((k) => k.split('#')[0]));
    expect(
      files.filter((f) => !loaded.has(f)),
      "name 'use server' files actions.ts so this test loads them",
    ).toEqual([]);
    const missing = [...discoveredActions.keys()].filter((k) => !(k in ACTION_TABLE) && !PUBLIC_ACTIONS.has(k));
    expect(missing, 'add these server actions to ACTION_TABLE').toEqual([]);
  });

  for (const [key, spec] of Object.entries(ACTION_TABLE)) {
    describe(key, () => {
      for (const caller of CALLERS) {
        const expected = ROLE_TABLE[spec.access][caller];
        const want: ActionOutcome = expected === 'ok' ? 'ok' : expected === 401 ? 'unauthorized' : 'forbidden';
        it(`${want === 'ok' ? 'succeeds' : `is refused (${want})`} for ${caller}`, async () => {
          const fn = discoveredActions.get(key);
          expect(fn, `${key} is not exported any more`).toBeDefined();
          const call = await spec.prepare();
          const before = await eventCount();
          actionScope.cookie = caller === 'anonymous' ? null : sessions[caller].cookie;
          try {
            expect(spec.outcome(await runAction(fn!, call.data))).toBe(want);
          } finally {
            actionScope.cookie = null;
            await call.settle?.();
          }
          const after = await eventCount();
          if (want !== 'ok') {
            expect(after).toBe(before);
            await call.unchanged?.();
          } else if (call.appends) {
            expect(after).toBeGreaterThan(before);
            expect(await lastEventActor()).toEqual({ ...sessions[caller as Role].actor, source: 'ui' });
          }
        });
      }
    });
  }

  it('keeps first-run setup closed once an account exists, whoever calls it', async () => {
    const setup = discoveredActions.get('app/(auth)/actions.ts#setupAction')!;
    const before = await t.prisma.user.count();
    for (const caller of CALLERS) {
      actionScope.cookie = caller === 'anonymous' ? null : sessions[caller].cookie;
      const result = await runAction(
        setup,
        form({
          name: 'Intruder',
          email: `intruder-${caller}@authz.test`,
          password: 'intruder-password',
          confirm: 'intruder-password',
        }),
      );
      actionScope.cookie = null;
      expect(result).toEqual({ redirect: '/sign-in' });
    }
    expect(await t.prisma.user.count()).toBe(before);
  });
});

describe('the event log as a whole', () => {
  it('names an authenticated actor (id, name, role) on every event written by these tests', async () => {
    const known = [SETUP_ACTOR, ...ROLES.flatMap((r) => [tokens[r].actor, sessions[r].actor])];
    const rows = (await t.pool.query('SELECT metadata FROM events')).rows as Array<{ metadata: { actor: Actor } }>;
    expect(rows.length).toBeGreaterThan(20);
    const strangers = rows
      .map((r) => r.metadata.actor)
      .filter((a) => !known.some((k) => k.id === a.id && k.name === a.name && k.role === a.role))
      // The revocation test's own token and user are real, authenticated actors too.
      .filter((a) => !(a.name === 'authz-soon-revoked (API token)' || a.name === 'Soon Disabled'));
    expect(strangers).toEqual([]);
  });
});
