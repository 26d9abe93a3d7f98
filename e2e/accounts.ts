import { expect, type Page } from '@playwright/test';

/**
 * Accounts the end-to-end specs share. The first spec to reach a fresh database creates the admin
 * through the first-run page (e2e/auth.spec.ts does that and checks it); any other spec can call
 * `signInAsAdmin` and gets the same account either way.
 */
export const ADMIN = { name: 'Ada Admin', email: 'ada.admin@example.org', password: 'e2e admin password 1' };
export const AUDITOR = {
  name: 'Audrey Auditor',
  email: 'audrey.auditor@example.org',
  password: 'e2e auditor password 1',
};
export const OPERATOR = {
  name: 'Otto Operator',
  email: 'otto.operator@example.org',
  password: 'e2e operator password 1',
};

export async function signIn(page: Page, who: { email: string; password: string }, next?: string): Promise<void> {
  await page.goto(next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in');
  await page.getByLabel('E-mail address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/sign-in/);
}

export async function signOut(page: Page): Promise<void> {
  await page.goto('/sign-out');
  // The page's own button; the header has one too.
  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in\?signed-out=1/);
}

/** Creates the admin on a fresh database (first run), or signs in as it. */
export async function signInAsAdmin(page: Page): Promise<void> {
  await page.goto('/setup');
  if (new URL(page.url()).pathname === '/setup') {
    await page.getByLabel('Your name').fill(ADMIN.name);
    await page.getByLabel('E-mail address').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Password again').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await expect(page).toHaveURL(/\/admin$/);
    return;
  }
  await signIn(page, ADMIN, '/admin');
}

/** Creates an account from the admin page (the page must be signed in as admin). */
export async function createAccount(
  page: Page,
  who: { name: string; email: string; password: string },
  role: 'operator' | 'auditor' | 'admin',
): Promise<void> {
  await page.goto('/admin');
  const form = page.getByRole('form', { name: 'Create an account' });
  await form.getByLabel('Name').fill(who.name);
  await form.getByLabel('E-mail address').fill(who.email);
  await form.getByLabel('Role').selectOption(role);
  await form.getByLabel('Initial password').fill(who.password);
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(form.getByRole('status')).toContainText(`Account created for ${who.name}`);
}
