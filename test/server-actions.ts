/**
 * Server actions run outside Next.js in integration tests: these stand in for `next/headers` and
 * `next/cache` with a request scope the test controls. In the spec file:
 *
 *   vi.mock('server-only', () => ({}));
 *   vi.mock('next/cache', () => import('@/test/server-actions').then((m) => m.nextCache));
 *   vi.mock('next/headers', () => import('@/test/server-actions').then((m) => m.nextHeaders));
 *   actionScope.cookie = signedIn.sealedSession; // act as that session (null: anonymous)
 */
export const actionScope: { cookie: string | null } = { cookie: null };

const SESSION_COOKIE = 'address_ledger_session';

export const nextCache = { revalidatePath: () => {}, revalidateTag: () => {}, updateTag: () => {} };

export const nextHeaders = {
  cookies: async () => ({
    get: (name: string) =>
      name === SESSION_COOKIE && actionScope.cookie ? { name, value: actionScope.cookie } : undefined,
    has: (name: string) => name === SESSION_COOKIE && actionScope.cookie !== null,
    set: () => {},
    delete: () => {},
  }),
  headers: async () =>
    new Headers({ host: 'localhost', origin: 'http://localhost', ...(actionScope.cookie ? { cookie: 'x' } : {}) }),
};
