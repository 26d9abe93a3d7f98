import { type Browser, expect, type Page, test } from '@playwright/test';
import { createAccount, signIn, signInAsAdmin } from './accounts';

/*
 * Two operators on one address, each in a browser context of their own. B opened the address
 * before A saved; B's save meets a conflict screen that shows A's change next to B's own edit,
 * merges what does not overlap and asks only about what does. Nothing is retyped.
 */

const ALMA = { name: 'Alma Operator', email: 'alma.operator@example.org', password: 'e2e alma password 1' };
const BRUNO = { name: 'Bruno Operator', email: 'bruno.operator@example.org', password: 'e2e bruno password 1' };

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAsAdmin(page);
  await createAccount(page, ALMA, 'operator');
  await createAccount(page, BRUNO, 'operator');
  await context.close();
});

async function operator(browser: Browser, who: typeof ALMA, next: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, who, next);
  return page;
}

/** Registers an address as `page`'s operator and returns its path. */
async function registerAddress(page: Page, line1: string): Promise<string> {
  await page.goto('/addresses/new');
  await page.getByLabel('Street address').fill(line1);
  await page.getByLabel('City / town').fill('Portland');
  await page.getByLabel('Region / state').fill('ME');
  await page.getByLabel('Postal code').fill('04101');
  await page.getByLabel('Country').selectOption('US');
  await page.getByRole('button', { name: 'Register address' }).click();
  await expect(page).toHaveURL(/\/addresses\/[0-9a-f-]{36}\?registered=1$/);
  return new URL(page.url()).pathname;
}

const changeForm = (page: Page) => page.getByRole('form', { name: 'Change address' });

async function saveChange(page: Page, label: string, value: string) {
  await changeForm(page).getByLabel(label).fill(value);
  await changeForm(page).getByRole('button', { name: 'Save change' }).click();
}

test('B changes the postal code after A changed the city: one click re-applies B on top of A', async ({ browser }) => {
  const a = await operator(browser, ALMA, '/addresses/new');
  const path = await registerAddress(a, '10 Conflict Street');
  const b = await operator(browser, BRUNO, path);
  await expect(b.getByText('Version 1', { exact: true })).toBeVisible();

  await saveChange(a, 'City / town', 'South Portland');
  await expect(changeForm(a).getByRole('status')).toHaveText('Change saved: now version 2.');

  await saveChange(b, 'Postal code', '04106');
  const form = changeForm(b);
  await expect(form.getByRole('alert')).toContainText('Someone else saved this address after you opened it');
  const theirs = form.locator('.conflict-events > li');
  await expect(theirs).toHaveCount(1);
  await expect(theirs).toContainText(`Version 2 · Changed by ${ALMA.name}`);
  await expect(theirs).toContainText('City / town: Portland → South Portland');
  await expect(form.locator('.merge-field', { hasText: 'City / town' })).toContainText(
    'only they changed it: theirs is kept',
  );
  await expect(form.locator('.merge-field', { hasText: 'Postal code' })).toContainText('04101 → 04106');
  await expect(form.locator('fieldset')).toHaveCount(0);

  await form.getByRole('button', { name: 'Save change at version 2' }).click();
  await expect(form.getByRole('status')).toHaveText('Change saved: now version 3.');
  await expect(b.locator('address.formatted-address')).toContainText('South Portland, ME 04106');

  await b.goto(`${path}/history`);
  await expect(b.locator('#v2')).toContainText(`by ${ALMA.name}`);
  await expect(b.locator('#v2').getByRole('row', { name: /City/ })).toContainText('South Portland');
  await expect(b.locator('#v3')).toContainText(`by ${BRUNO.name}`);
  await expect(b.locator('#v3').getByRole('row', { name: /Postal code/ })).toContainText('04106');
  await expect(b.locator('#v3').getByRole('row', { name: /City/ })).toHaveCount(0);
});

test('both change the postal code: B must choose, a repeated conflict shows the screen again, the choice is stored', async ({
  browser,
}) => {
  const a = await operator(browser, ALMA, '/addresses/new');
  const path = await registerAddress(a, '12 Conflict Street');
  const b = await operator(browser, BRUNO, path);
  await expect(b.getByText('Version 1', { exact: true })).toBeVisible();

  await saveChange(a, 'Postal code', '04102');
  await expect(changeForm(a).getByRole('status')).toHaveText('Change saved: now version 2.');
  await changeForm(b).getByLabel('Reason').fill('Customer called');
  await saveChange(b, 'Postal code', '04103');

  const form = changeForm(b);
  const choice = form.getByRole('group', { name: /Postal code: you both changed it/ });
  await expect(choice).toBeVisible();
  await expect(choice.getByLabel('Theirs: 04102')).not.toBeChecked();
  await expect(choice.getByLabel('Yours: 04103')).not.toBeChecked();
  const save = form.getByRole('button', { name: 'Save change at version 2' });
  await expect(save).toBeDisabled();
  await expect(form.getByText('Choose a value for: Postal code.')).toBeVisible();

  // The screen at a phone's width and at a desktop's, for a person to look at (kept with the run).
  for (const width of [360, 1280]) {
    await b.setViewportSize({ width, height: 900 });
    await form.screenshot({ path: test.info().outputPath(`conflict-screen-${width}.png`) });
  }

  await choice.getByLabel('Another value').check();
  await choice.getByLabel('Another postal code').fill('04104');
  await expect(save).toBeEnabled();

  // Meanwhile A saves again: B's re-submit conflicts again and shows the newer event.
  await saveChange(a, 'Owner reference', 'CUST-77');
  await expect(changeForm(a).getByRole('status')).toHaveText('Change saved: now version 3.');
  await save.click();
  await expect(form.locator('.conflict-events > li')).toHaveCount(1);
  await expect(form.locator('.conflict-events')).toContainText('Version 3 · Changed');
  await expect(form.locator('.conflict-events')).toContainText('Owner reference: not set → CUST-77');
  await expect(form.locator('.merge-field', { hasText: 'Postal code' })).toContainText('04102 → 04104');
  await expect(form.getByLabel('Reason')).toHaveValue('Customer called');

  await form.getByRole('button', { name: 'Save change at version 3' }).click();
  await expect(form.getByRole('status')).toHaveText('Change saved: now version 4.');
  await b.goto(`${path}/history`);
  const v4 = b.locator('#v4');
  await expect(v4).toContainText(`by ${BRUNO.name}`);
  await expect(v4).toContainText('Reason: Customer called');
  await expect(v4.getByRole('row', { name: /Postal code/ })).toContainText('04104');
  await expect(v4.getByRole('row', { name: /Owner/ })).toHaveCount(0);
  await expect(b.locator('#v3').getByRole('row', { name: /Owner/ })).toContainText('CUST-77');
});
