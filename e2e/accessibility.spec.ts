import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { openPage, PAGE_ACCOUNTS, PAGES, pageSessionsForThisFile, WIDTHS } from './pages';

/*
 * Issue 9 §5 with the keyboard and assistive technology in mind: axe finds no serious or critical
 * violation on any page at either width; the skip link is the first Tab stop and lands in the
 * main content; after a submit, focus is on the first invalid field or on the outcome; signing in
 * lands on the search page.
 */
const sessions = pageSessionsForThisFile();

for (const pageCase of PAGES) {
  for (const width of WIDTHS) {
    test(`${pageCase.name} at ${width} px has no serious or critical axe violation`, async () => {
      const page = await sessions().context(pageCase.as).newPage();
      await page.setViewportSize({ width, height: 800 });
      await openPage(page, pageCase, sessions().fixture);
      const results = await new AxeBuilder({ page }).analyze();
      // axe really ran on the page (an injection that failed would report nothing at all).
      expect(results.passes.length).toBeGreaterThan(10);
      const blocking = results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ rule: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
      expect(blocking).toEqual([]);
      await page.close();
    });
  }
}

test('the skip link is the first Tab stop and moves focus to the main content', async () => {
  const page = await sessions().context('operator').newPage();
  await page.goto(`/addresses/${sessions().fixture.addressId}`);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused();
  // The next Tab goes on inside the main content, not back to the header.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.closest('main') !== null)).toBe(true);
  await page.close();
});

test('a failed submit focuses the first invalid field; a successful one focuses the message', async () => {
  const page = await sessions().context('operator').newPage();
  await page.goto(`/addresses/${sessions().fixture.addressId}`);
  const form = page.getByRole('form', { name: 'Change address' });
  const postalCode = form.getByLabel('Postal code');
  await postalCode.fill('ABCDE');
  await form.getByRole('button', { name: 'Save change' }).click();
  // Not the first field of the form: the one that is wrong.
  await expect(postalCode).toHaveAttribute('aria-invalid', 'true');
  await expect(postalCode).toBeFocused();

  await postalCode.fill('04107');
  await form.getByLabel('Reason').fill('Checking focus after a save');
  await form.getByLabel('Owner reference').fill(`PAGES-${Date.now()}`);
  await form.getByRole('button', { name: 'Save change' }).click();
  const status = form.getByRole('status');
  await expect(status).toContainText(/Change saved: now version \d+\./);
  await expect(status).toBeFocused();
  await page.close();
});

test('a rejected sign-in focuses its message', async ({ page }) => {
  await page.goto('/sign-in');
  await page.getByLabel('E-mail address').fill(PAGE_ACCOUNTS.operator.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('form', { name: 'Sign in' }).getByRole('alert')).toBeFocused();
});

test('signing in without a next= lands on the search page; with one, on that page', async ({ page }) => {
  for (const [path, landing] of [
    ['/sign-in', /\/addresses$/],
    ['/', /\/addresses$/],
    [`/sign-in?next=${encodeURIComponent('//evil.example')}`, /\/addresses$/],
    [`/sign-in?next=${encodeURIComponent('/audit/access')}`, /\/forbidden$/],
    [`/sign-in?next=${encodeURIComponent('/addresses/new')}`, /\/addresses\/new$/],
  ] as const) {
    await page.context().clearCookies();
    await page.goto(path);
    await expect(page).toHaveURL(/\/sign-in/);
    await page.getByLabel('E-mail address').fill(PAGE_ACCOUNTS.operator.email);
    await page.getByLabel('Password').fill(PAGE_ACCOUNTS.operator.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page, path).toHaveURL(landing);
  }
});

test('page titles name the address or the page', async () => {
  const page = await sessions().context('operator').newPage();
  const id = sessions().fixture.addressId;
  for (const [path, title] of [
    [`/addresses/${id}`, '17 Lighthouse Road, Cape Elizabeth — Address Ledger'],
    [`/addresses/${id}/history`, 'History of 17 Lighthouse Road, Cape Elizabeth — Address Ledger'],
    [`/addresses/${id}/compare?from=1&to=2`, 'Compare versions of 17 Lighthouse Road, Cape Elizabeth — Address Ledger'],
    ['/addresses/new', 'Register an address — Address Ledger'],
    ['/addresses/00000000-0000-4000-8000-000000000000', 'Address not found — Address Ledger'],
  ] as const) {
    await page.goto(path);
    await expect(page, path).toHaveTitle(title);
  }
  await page.close();
});
