import type { Role } from '@/domain/messages';
import { createApiToken } from '@/lib/auth/tokens';
import { createUser } from '@/lib/auth/users';
import type { Db } from '@/lib/db';

type Handler<P> = (request: Request, context: { params: Promise<P> }) => Promise<Response>;

export interface CallOptions<P> {
  method?: string;
  path: string;
  body?: unknown;
  /** Raw body text, for malformed or oversized payloads. */
  rawBody?: string;
  headers?: Record<string, string>;
  params?: P;
  as?: Role | 'anonymous';
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field in tests
  body: any;
}

const tokens = new Map<Role, { secret: string; actorId: string; actorName: string }>();

/**
 * Real credentials for each role in a test database: an admin account (so the app is past its
 * first run) and one API token per role, used as `Authorization: Bearer`.
 */
export async function provisionCallers(db: Db): Promise<void> {
  await createUser(db, {
    email: 'first-admin@example.test',
    name: 'First Admin',
    role: 'admin',
    password: 'correct horse battery staple',
  });
  for (const role of ['operator', 'auditor', 'admin'] as const) {
    const created = await createApiToken(db, { name: `test-${role}`, role }, null);
    tokens.set(role, {
      secret: created.secret,
      actorId: `token:${created.token.id}`,
      actorName: `test-${role} (API token)`,
    });
  }
}

/** The actor the API records for a role's test token. */
export function actorOf(role: Role): { id: string; name: string; role: Role } {
  const t = tokens.get(role);
  if (!t) throw new Error('call provisionCallers(db) in beforeAll first');
  return { id: t.actorId, name: t.actorName, role };
}

/** Headers that authenticate as a role (none for anonymous). */
export function credentials(as: Role | 'anonymous' = 'operator'): Record<string, string> {
  if (as === 'anonymous') return {};
  const t = tokens.get(as);
  if (!t) throw new Error('call provisionCallers(db) in beforeAll first');
  return { authorization: `Bearer ${t.secret}` };
}

/** Calls a Next.js route handler in-process with a real Request, as the framework would. */
export async function call<P = Record<string, never>>(
  handler: Handler<P>,
  options: CallOptions<P>,
): Promise<CallResult> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const request = new Request(`http://localhost${options.path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...credentials(options.as),
      ...options.headers,
    },
    body,
  });
  const response = await handler(request, { params: Promise.resolve((options.params ?? {}) as P) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}
