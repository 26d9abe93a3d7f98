import { type BrowserContext, expect, request as playwrightRequest, test } from '@playwright/test';
import { ADMIN, AUDITOR, createAccount, signIn, signInAsAdmin, signOut } from './accounts';
import { type FreshInstall, startFreshInstall } from './fresh-install';

/*
 * Accounts end to end (issue 4): first-run admin creation, sign-in, roles enforced on the server
 * (an auditor sees no edit controls and a direct command request fails), and sign-out ending the
 * session for good. First-run runs on an install of its own (see fresh-install.ts); the rest is one
 * story, in order, on the shared e2e server.
 */
test.describe.configure({ mode: 'serial' });

const ADDRESS = { line1: '389 Congress Street', city: 'Portland', region: 'ME', postalCode: '04101', country: 'US' };
let addressId = '';

test.describe('first run, on a fresh install of its own', () => {
  let fresh: FreshInstall;
  let context: BrowserContext;

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(240_000);
    fresh = await startFreshInstall();
    context = await browser.newContext({ baseURL: fresh.baseURL });
  });
  test.afterAll(async () => {
    await context?.close();
    await fresh?.stop();
  });

  test('before the first account exists, every page leads to first-run setup and the API refuses', async () => {
    const page = await context.newPage();
    const api = await page.request.get('/api/addresses/00000000-0000-4000-8000-000000000000/events');
    expect(api.status()).toBe(401);
    expect((await api.json()).error).toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('/setup'),
    });

    for (const path of ['/', '/admin', '/sign-in', '/addresses/new']) {
      await page.goto(path);
      await expect(page).toHaveURL(/\/setup$/);
    }
    await expect(page.getByText('First run:')).toBeVisible();
  });

  test('the first visitor creates the admin account and lands on the admin page; setup then closes', async () => {
    const page = await context.newPage();
    await page.goto('/setup');
    await page.getByLabel('Your name').fill(ADMIN.name);
    await page.getByLabel('E-mail address').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill('a different password');
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await expect(page.getByText('The two passwords differ.')).toBeVisible();

    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
    await expect(page.getByRole('row', { name: new RegExp(ADMIN.email) })).toContainText('admin');

    // Setup is closed for everyone now, signed in or not.
    await page.goto('/setup');
    await expect(page).toHaveURL(/\/sign-in/);
    const stranger = await context.browser()!.newContext({ baseURL: fresh.baseURL });
    const other = await stranger.newPage();
    await other.goto('/setup');
    await expect(other).toHaveURL(/\/sign-in$/);
    await expect(other.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await stranger.close();
  });
});

// The rest runs on the shared e2e server, where the admin exists already or is created now.
test.beforeAll(async ({ browser }) => {
  const page = await browser.newPage();
  await signInAsAdmin(page);
  await page.close();
});

test('the admin creates an auditor account and an API token that is shown once', async ({ page, request }) => {
  await signIn(page, ADMIN, '/admin');
  await createAccount(page, AUDITOR, 'auditor');
  await expect(page.getByRole('row', { name: new RegExp(AUDITOR.email) })).toContainText('auditor');

  const form = page.getByRole('form', { name: 'Create an API token' });
  await form.getByLabel('Token name').fill('e2e-importer');
  await form.getByLabel('Role').selectOption('operator');
  await form.getByRole('button', { name: 'Create token' }).click();
  const token = (await form.getByTestId('new-token').textContent())?.trim() ?? '';
  expect(token).toMatch(/^alt_[A-Za-z0-9_-]{43}$/);
  await page.reload();
  await expect(page.getByText(token)).toHaveCount(0);

  // The token works for integrations, and the event names it as the actor.
  const created = await request.post('/api/addresses', {
    headers: { Authorization: `Bearer ${token}` },
    data: ADDRESS,
  });
  expect(created.status()).toBe(201);
  addressId = (await created.json()).id;
  const events = await request.get(`/api/addresses/${addressId}/events`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect((await events.json()).events[0].metadata.actor).toMatchObject({
    name: 'e2e-importer (API token)',
    role: 'operator',
  });
});

test('a wrong password gets the same generic message as an unknown account', async ({ page }) => {
  for (const email of [AUDITOR.email, 'nobody@example.org']) {
    await page.goto('/sign-in');
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('form', { name: 'Sign in' }).getByRole('alert')).toHaveText(
      'That e-mail address and password do not match an active account.',
    );
  }
});

test('an auditor sees no edit controls and cannot issue a command by any route', async ({ page, baseURL }) => {
  await signIn(page, AUDITOR, `/addresses/${addressId}`);
  await expect(page).toHaveURL(new RegExp(`/addresses/${addressId}$`));
  await expect(page.getByRole('heading', { name: 'Current address' })).toBeVisible();
  await expect(page.getByText('You have read-only access (auditor)')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Edit' })).toHaveCount(0);
  // The page's content has no form at all (the header's sign-out button is the only one).
  await expect(page.locator('main form')).toHaveCount(0);

  for (const path of ['/addresses/new', '/admin', '/import']) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/forbidden$/);
  }

  // Direct requests with the auditor's own session cookie, sent as the browser would (same origin).
  const origin = { Origin: new URL(baseURL!).origin };
  const register = await page.request.post('/api/addresses', { headers: origin, data: ADDRESS });
  expect(register.status()).toBe(403);
  expect((await register.json()).error.code).toBe('forbidden');
  const archive = await page.request.post(`/api/addresses/${addressId}/archive`, {
    headers: origin,
    data: { expectedVersion: 1, reason: 'auditor tries' },
  });
  expect(archive.status()).toBe(403);
  // Reading is what an auditor may do.
  const history = await page.request.get(`/api/addresses/${addressId}/events`);
  expect(history.status()).toBe(200);
  expect((await history.json()).events).toHaveLength(1);
});

test('signing out ends the session: the old cookie is refused afterwards', async ({ page, context, baseURL }) => {
  await signIn(page, AUDITOR, '/');
  const cookie = (await context.cookies()).find((c) => c.name === 'address_ledger_session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

  await signOut(page);
  await expect(page.getByText('You are signed out.')).toBeVisible();
  await page.goto(`/addresses/${addressId}`);
  await expect(page).toHaveURL(/\/sign-in/);

  // Someone who copied the cookie before sign-out cannot use it.
  const replay = await playwrightRequest.newContext({
    baseURL,
    extraHTTPHeaders: { Cookie: `address_ledger_session=${cookie!.value}` },
  });
  const res = await replay.get(`/api/addresses/${addressId}/events`);
  expect(res.status()).toBe(401);
  await replay.dispose();
});

test('pages are served with a CSP they work under, and may not be framed', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  const response = await page.goto('/sign-in');
  const headers = response!.headers();
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  // The sign-in form is a React client component: it only works if the scripts ran under the CSP.
  await signIn(page, ADMIN, '/admin');
  await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
  expect(violations).toEqual([]);
});

test('after signing in, a hostile next= never leaves the site, and the Continue link stays here too', async ({
  page,
  baseURL,
}) => {
  const origin = new URL(baseURL!).origin;
  // `/%09/evil.example` arrives as `/<TAB>/evil.example`, which a browser reads as //evil.example;
  // CR/LF once made the redirect header invalid (a 500 after a successful sign-in).
  for (const next of ['/\t/evil.example', '/\\evil.example', '/..//evil.example', '/admin\r\n']) {
    await page.context().clearCookies();
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    await page.getByLabel('E-mail address').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).not.toHaveURL(/\/sign-in/);
    expect(new URL(page.url()).origin, next).toBe(origin);
    await expect(page.getByRole('main')).toBeVisible();
    // Signed in now: the sign-in page offers a Continue link built from the same next=.
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    const href = await page.getByRole('link', { name: 'Continue' }).getAttribute('href');
    expect(new URL(href!, page.url()).origin, next).toBe(origin);
  }
});
