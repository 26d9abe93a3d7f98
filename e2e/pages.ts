import { randomUUID } from 'node:crypto';
import { type Browser, type BrowserContext, expect, type Page, test } from '@playwright/test';
import { createAccount, signIn, signInAsAdmin } from './accounts';

/*
 * Every page of the app, once, for the specs that must hold on all of them (e2e/responsive.spec.ts:
 * no sideways scrolling at 360 and 1280 px, screenshots; e2e/accessibility.spec.ts: axe). A new
 * page is one line in PAGES.
 */

export type Role = 'anonymous' | 'operator' | 'auditor' | 'admin';

/** What the pages need to exist: one address with a few versions. */
export interface Fixture {
  addressId: string;
}

export interface PageCase {
  /** Names the test and the screenshot file. */
  name: string;
  as: Role;
  path: (fixture: Fixture) => string;
  /** Run after the page loaded, before it is checked (e.g. open every panel, so hidden forms are checked too). */
  prepare?: (page: Page) => Promise<void>;
}

/** Opens every <details> panel, so the forms inside them are measured and checked too. */
async function openAllPanels(page: Page): Promise<void> {
  const closed = page.locator('main details:not([open]) > summary');
  for (let n = await closed.count(); n > 0; n = await closed.count()) await closed.first().click();
}

export const PAGES: readonly PageCase[] = [
  { name: 'sign-in', as: 'anonymous', path: () => '/sign-in' },
  { name: 'home', as: 'operator', path: () => '/' },
  { name: 'search', as: 'operator', path: () => '/addresses' },
  {
    name: 'search-results',
    as: 'operator',
    path: () => '/addresses?q=lighthouse',
    // The index is eventually consistent: reload until the projector has indexed the fixture.
    prepare: async (page) => {
      await expect(async () => {
        await page.reload();
        // Each spec file registers its own fixture, so several may match.
        await expect(page.getByRole('link', { name: /17 Lighthouse Road/ }).first()).toBeVisible({ timeout: 1_000 });
      }).toPass({ timeout: 30_000 });
    },
  },
  { name: 'register', as: 'operator', path: () => '/addresses/new' },
  { name: 'detail', as: 'operator', path: (f) => `/addresses/${f.addressId}` },
  {
    name: 'detail-all-forms',
    as: 'operator',
    path: (f) => `/addresses/${f.addressId}`,
    prepare: openAllPanels,
  },
  { name: 'detail-read-only', as: 'auditor', path: (f) => `/addresses/${f.addressId}` },
  { name: 'history', as: 'operator', path: (f) => `/addresses/${f.addressId}/history` },
  { name: 'history-at-version', as: 'operator', path: (f) => `/addresses/${f.addressId}/history?version=1#state` },
  { name: 'compare', as: 'auditor', path: (f) => `/addresses/${f.addressId}/compare?from=1&to=current` },
  { name: 'audit-log', as: 'auditor', path: () => '/audit' },
  { name: 'access-trail', as: 'auditor', path: () => '/audit/access' },
  { name: 'admin', as: 'admin', path: () => '/admin' },
  { name: 'import', as: 'operator', path: () => '/import' },
  { name: 'forbidden', as: 'auditor', path: () => '/forbidden' },
  { name: 'sign-out', as: 'operator', path: () => '/sign-out' },
  { name: 'not-found', as: 'operator', path: () => '/addresses/00000000-0000-4000-8000-000000000000' },
];

export const WIDTHS = [360, 1280] as const;

/** Accounts of these specs' own (other specs create theirs; an e-mail address can be used once). */
export const PAGE_ACCOUNTS = {
  operator: { name: 'Pia Pages', email: 'pia.pages@example.org', password: 'e2e pages operator 1' },
  auditor: { name: 'Rhea Reader', email: 'rhea.reader@example.org', password: 'e2e pages auditor 1' },
} as const;

/** Signed-in browser contexts, one per role, and the fixture address. */
export interface PageSessions {
  fixture: Fixture;
  context(role: Role): BrowserContext;
  close(): Promise<void>;
}

/**
 * Creates the accounts (once per e2e database: only when missing) and a fixture address, and signs
 * in one context per role.
 */
export async function openPageSessions(browser: Browser): Promise<PageSessions> {
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  await signInAsAdmin(adminPage);
  for (const role of ['operator', 'auditor'] as const) {
    await adminPage.goto('/admin');
    const exists = await adminPage.locator(`tr[data-email="${PAGE_ACCOUNTS[role].email}"]`).count();
    if (!exists) await createAccount(adminPage, PAGE_ACCOUNTS[role], role);
  }
  await adminPage.close();

  const contexts: Record<Role, BrowserContext> = {
    anonymous: await browser.newContext(),
    admin,
    operator: await browser.newContext(),
    auditor: await browser.newContext(),
  };
  for (const role of ['operator', 'auditor'] as const) {
    const page = await contexts[role].newPage();
    await signIn(page, PAGE_ACCOUNTS[role]);
    await page.close();
  }
  const fixture = { addressId: await fixtureAddress(contexts.operator) };
  return {
    fixture,
    context: (role) => contexts[role],
    close: async () => {
      for (const c of Object.values(contexts)) await c.close();
    },
  };
}

/**
 * Opens the sessions before the spec file's tests and closes them after; the returned function
 * gives them to a test.
 */
export function pageSessionsForThisFile(): () => PageSessions {
  let sessions: PageSessions | undefined;
  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    sessions = await openPageSessions(browser);
  });
  test.afterAll(async () => {
    await sessions?.close();
  });
  return () => {
    if (!sessions) throw new Error('the page sessions did not open (see beforeAll)');
    return sessions;
  };
}

/** A fresh fixture address with three versions (registered, changed, corrected). */
async function fixtureAddress(context: BrowserContext): Promise<string> {
  const page = await context.newPage();
  await page.goto('/addresses');
  const origin = { origin: new URL(page.url()).origin };
  // Owners of their own, so each spec file's copy passes the duplicate guard.
  const owner = () => `PAGES-${randomUUID().slice(0, 8)}`;
  const created = await page.request.post('/api/addresses', {
    data: {
      line1: '17 Lighthouse Road',
      city: 'Cape Elizabeth',
      region: 'ME',
      postalCode: '04107',
      country: 'US',
      owner: owner(),
    },
    headers: origin,
  });
  expect(created.status(), await created.text()).toBe(201);
  const id: string = (await created.json()).id;
  const changed = await page.request.patch(`/api/addresses/${id}`, {
    data: { expectedVersion: 1, changes: { line2: 'Keeper’s House' }, reason: 'The house has a name' },
    headers: origin,
  });
  expect(changed.status(), await changed.text()).toBe(200);
  const corrected = await page.request.post(`/api/addresses/${id}/corrections`, {
    data: { expectedVersion: 2, corrects: 1, fields: { owner: owner() }, reason: 'Owner typed wrong' },
    headers: origin,
  });
  expect(corrected.status(), await corrected.text()).toBe(200);
  await page.close();
  return id;
}

/** Loads a page case and waits until it has rendered (and hydrated: the forms' scripts ran). */
export async function openPage(page: Page, pageCase: PageCase, fixture: Fixture): Promise<void> {
  const response = await page.goto(pageCase.path(fixture));
  expect(response?.status(), pageCase.name).toBeLessThan(pageCase.name === 'not-found' ? 500 : 400);
  await expect(page.getByRole('main')).toBeVisible();
  await page.waitForLoadState('networkidle');
  await pageCase.prepare?.(page);
}
