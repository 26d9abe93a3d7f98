import { expect, type Page, test } from '@playwright/test';
import { createAccount, OPERATOR, signIn, signInAsAdmin } from './accounts';

/*
 * The operator's story end to end, in one browser against the real app and database: register an
 * address (after a rejected postal code that keeps the input), see it formatted, change it with a
 * reason, get a readable validation error without losing the input, find the change in the
 * timeline with actor and reason, look at version 1, and meet a conflict when two tabs edit the
 * same version, then correct, revert, archive (a reason is required) and restore. Serial: each step
 * builds on the address the first one registers.
 */
test.describe.configure({ mode: 'serial' });

let addressUrl = '';

test.beforeAll(async ({ browser }) => {
  // The admin exists after the first-run setup (created here if this spec runs first); it adds the operator.
  // Its own browser context, so the admin's session ends with it.
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAsAdmin(page);
  await createAccount(page, OPERATOR, 'operator');
  await context.close();
});

async function signInAsOperator(page: Page, next: string) {
  await signIn(page, OPERATOR, next);
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, '\\?')}$`));
}

function changeForm(page: Page) {
  return page.getByRole('form', { name: 'Change address' });
}

test('an operator registers an address; a bad postal code is explained and the input is kept', async ({ page }) => {
  await signInAsOperator(page, '/addresses/new');
  await expect(page.getByRole('heading', { name: 'Register an address' })).toBeVisible();

  await page.getByLabel('Street address').fill('88 Exchange Street');
  await page.getByLabel('Address line 2').fill('Suite 300');
  await page.getByLabel('City / town').fill('Portland');
  await page.getByLabel('Region / state').fill('ME');
  await page.getByLabel('Postal code').fill('4101');
  await page.getByLabel('Country').selectOption('US');
  await page.getByLabel('Owner reference').fill('CUST-0042');
  await page.getByRole('button', { name: 'Register address' }).click();

  // The error sits next to the field, in words, and nothing typed is lost.
  await expect(page.getByText('Postal code 4101 is not valid for US.')).toBeVisible();
  await expect(page.getByLabel('Postal code')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Street address')).toHaveValue('88 Exchange Street');
  await expect(page.getByLabel('Address line 2')).toHaveValue('Suite 300');
  await expect(page.getByLabel('City / town')).toHaveValue('Portland');
  await expect(page.getByLabel('Owner reference')).toHaveValue('CUST-0042');
  await expect(page.getByLabel('Country')).toHaveValue('US');
  await expect(page).toHaveURL(/\/addresses\/new$/);

  await page.getByLabel('Postal code').fill('04101');
  await page.getByRole('button', { name: 'Register address' }).click();

  await expect(page).toHaveURL(/\/addresses\/[0-9a-f-]{36}\?registered=1$/);
  addressUrl = new URL(page.url()).pathname;
  await expect(page.getByText('Address registered as version 1.')).toBeVisible();
  // Shown in the country's own format (US: "City, ST ZIP" on one line).
  const formatted = page.locator('address.formatted-address');
  await expect(formatted).toContainText('88 Exchange Street');
  await expect(formatted).toContainText('Suite 300');
  await expect(formatted).toContainText('Portland, ME 04101');
  await expect(page.getByText('Version 1', { exact: true })).toBeVisible();
});

test('the operator changes the address with a reason, then a bad postal code keeps the input', async ({ page }) => {
  await signInAsOperator(page, addressUrl);
  const form = changeForm(page);
  await form.getByLabel('Street address').fill('90 Exchange Street');
  await form.getByLabel('Reason').fill('Building renumbered by the city');
  await form.getByRole('button', { name: 'Save change' }).click();
  await expect(form.getByRole('status')).toHaveText('Change saved: now version 2.');
  await expect(page.locator('address.formatted-address')).toContainText('90 Exchange Street');
  await expect(page.getByText('Version 2', { exact: true })).toBeVisible();

  await form.getByLabel('Address line 2').fill('Suite 310');
  await form.getByLabel('Postal code').fill('ABCDE');
  await form.getByRole('button', { name: 'Save change' }).click();
  await expect(form.getByText('Postal code ABCDE is not valid for US.')).toBeVisible();
  await expect(form.getByLabel('Postal code')).toHaveValue('ABCDE');
  await expect(form.getByLabel('Address line 2')).toHaveValue('Suite 310');
  // Nothing was saved.
  await expect(page.getByText('Version 2', { exact: true })).toBeVisible();
  await expect(page.locator('address.formatted-address')).toContainText('Suite 300');
});

test('the change is in the timeline with actor, reason and diff; version 1 can be viewed', async ({ page }) => {
  await signInAsOperator(page, `${addressUrl}/history`);
  const v2 = page.locator('#v2');
  await expect(v2).toContainText('Changed');
  await expect(v2).toContainText(`by ${OPERATOR.name} (operator)`);
  await expect(v2).toContainText('Reason: Building renumbered by the city');
  const row = v2.getByRole('row', { name: /Street address/ });
  await expect(row.getByRole('cell').nth(0)).toHaveText('88 Exchange Street');
  await expect(row.getByRole('cell').nth(1)).toHaveText('90 Exchange Street');
  await expect(page.locator('#v1')).toContainText('Registered');

  await page.locator('#v1').getByRole('link', { name: 'View the address at version 1' }).click();
  await expect(page).toHaveURL(/\?version=1#state$/);
  const state = page.locator('#state');
  await expect(state.getByRole('heading', { name: 'As it was at version 1' })).toBeVisible();
  await expect(state.locator('address')).toContainText('88 Exchange Street');
  await expect(state).toContainText('1 later event since');

  // The same point in time by timestamp: now is after both events, so it is the current state.
  await page.getByLabel('As of time (UTC)').fill(new Date(Date.now() + 60_000).toISOString());
  await page.getByRole('button', { name: 'Show' }).nth(1).click();
  await expect(page.locator('#state address')).toContainText('90 Exchange Street');
});

test('two tabs editing the same version: the second save shows the conflict, and can be discarded', async ({
  context,
}) => {
  const first = await context.newPage();
  await signInAsOperator(first, addressUrl);
  const second = await context.newPage();
  await second.goto(addressUrl);
  await expect(second.getByText('Version 2', { exact: true })).toBeVisible();

  await changeForm(first).getByLabel('Owner reference').fill('CUST-0043');
  await changeForm(first).getByRole('button', { name: 'Save change' }).click();
  await expect(changeForm(first).getByRole('status')).toHaveText('Change saved: now version 3.');

  await changeForm(second).getByLabel('Owner reference').fill('CUST-9999');
  await changeForm(second).getByRole('button', { name: 'Save change' }).click();
  await expect(changeForm(second).getByRole('alert')).toContainText(
    'Someone else saved this address after you opened it (it is now at version 3).',
  );
  const choice = changeForm(second).getByRole('group', { name: /Owner reference: you both changed it/ });
  await expect(choice.getByLabel('Theirs: CUST-0043')).toBeVisible();
  await expect(choice.getByLabel('Yours: CUST-9999')).toBeVisible();

  await second.getByRole('link', { name: 'Discard my edit and reload the address' }).click();
  await expect(second.getByText('Version 3', { exact: true })).toBeVisible();
  await expect(changeForm(second).getByLabel('Owner reference')).toHaveValue('CUST-0043');
});

test('a double submit of the same form appends one event', async ({ page }) => {
  await signInAsOperator(page, addressUrl);
  await expect(page.getByText('Version 3', { exact: true })).toBeVisible();
  const form = changeForm(page);
  await form.getByLabel('Region / state').fill('Maine');
  // Two submits of the same rendered form (same idempotency token), as a double click would send.
  await form.evaluate((el: HTMLFormElement) => {
    el.requestSubmit();
    el.requestSubmit();
  });
  await expect(page.getByText('Version 4', { exact: true })).toBeVisible();
  // The second submit replayed the first one's result instead of appending (or conflicting).
  await expect(form.getByRole('status')).toHaveText(/^(Already saved \(version 4\)|Change saved: now version 4)\.$/);
  await page.goto(`${addressUrl}/history`);
  await expect(page.locator('.timeline-item')).toHaveCount(4);
});

test('search finds the address once the read model has caught up, with facets and filters', async ({ page }) => {
  await signInAsOperator(page, '/addresses');
  // The search index is eventually consistent: reload until the projector has applied version 4.
  await expect(async () => {
    await page.goto('/addresses?q=exchange+st&city=Portland');
    await expect(page.locator('.hit', { hasText: '90 Exchange Street' })).toContainText('v4');
  }).toPass({ timeout: 30_000 });
  const hit = page.locator('.hit', { hasText: '90 Exchange Street' });
  await expect(hit.locator('mark').first()).toHaveText('Exchange');
  await expect(page.getByRole('link', { name: /City \/ town: Portland/ })).toBeVisible();
  await expect(page.locator('.facet-group', { hasText: 'Status' })).toContainText('Active');

  // A status filter that excludes it, then back via the facet chip.
  await page.getByLabel('Status').selectOption('archived');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('heading', { name: 'No addresses found' })).toBeVisible();

  await page.goto('/addresses?q=exchange+st&city=Portland');
  await page.locator('.hit', { hasText: '90 Exchange Street' }).getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`${addressUrl}$`));
});

test('correcting version 2 of a 4-version address starts from version 2, then revert, archive (confirmed) and restore', async ({
  page,
}) => {
  await signInAsOperator(page, addressUrl);
  await expect(page.getByText('Version 4', { exact: true })).toBeVisible();

  // The picker says what each version did, and nothing is chosen until the operator chooses.
  await page.getByText('Correct a recording error', { exact: true }).click();
  const correct = page.getByRole('form', { name: 'Correct a recording error' });
  const picker = correct.getByLabel('Version that was recorded wrong');
  await expect(picker).toHaveValue('');
  await expect(picker.locator('option[value="2"]')).toHaveText(
    new RegExp(
      `^v2 · Changed street address 88 Exchange Street → 90 Exchange Street · ${OPERATOR.name} · (now|\\d+ seconds? ago|\\d+ minutes? ago)$`,
    ),
  );
  await expect(correct.getByLabel('Street address')).toHaveCount(0);

  // Version 2 recorded "90 Exchange Street" with the owner and region of that time (both changed later).
  await picker.selectOption('2');
  await expect(correct.getByLabel('Street address')).toHaveValue('90 Exchange Street');
  await expect(correct.getByLabel('Owner reference')).toHaveValue('CUST-0042');
  await expect(correct.getByLabel('Region / state')).toHaveValue('ME');
  await correct.getByLabel('Street address').fill('92 Exchange Street');
  await correct.getByLabel('Reason').fill('House number typed wrong');
  await correct.getByRole('button', { name: 'Record correction' }).click();
  await expect(correct.getByRole('status')).toHaveText('Correction of version 2 saved: now version 5.');
  const current = page.locator('section', { hasText: 'Current address' }).first();
  await expect(current).toContainText('92 Exchange Street');
  // Only the corrected field changed: the later owner and region stay.
  await expect(current).toContainText('CUST-0043');
  await expect(current).toContainText('Maine');

  // Reverting version 2 now would undo the correction: refused, in the field's own words.
  await page.getByText('Revert a change', { exact: true }).click();
  const revert = page.getByRole('form', { name: 'Revert a change' });
  await expect(revert.getByLabel('Change to undo')).toHaveValue('');
  await revert.getByLabel('Change to undo').selectOption('2');
  await revert.getByLabel('Reason').fill('Try the old number');
  await revert.getByRole('button', { name: 'Revert change' }).click();
  await expect(revert.getByRole('alert')).toContainText('Street address (changed again in version 5)');
  await expect(revert.getByRole('alert')).not.toContainText('line1');

  // Revert the correction instead; the correction's success message gives way to the revert's.
  await revert.getByLabel('Change to undo').selectOption('5');
  await revert.getByRole('button', { name: 'Revert change' }).click();
  await expect(revert.getByRole('status')).toHaveText('Version 5 reverted: now version 6.');
  await expect(correct.getByRole('status')).toHaveCount(0);
  await expect(current).toContainText('90 Exchange Street');

  // Archive asks first; without a reason nothing is saved.
  await page.getByText('Archive', { exact: true }).click();
  const archive = page.getByRole('form', { name: 'Archive address' });
  await archive.getByRole('button', { name: 'Archive address' }).click();
  const question = archive.getByRole('group', { name: /Archive this address\?/ });
  await expect(question).toBeVisible();
  await question.getByRole('button', { name: 'Cancel' }).click();
  await expect(question).toHaveCount(0);
  await archive.getByRole('button', { name: 'Archive address' }).click();
  await archive.getByRole('button', { name: 'Yes, archive' }).click();
  await expect(archive.getByLabel('Reason')).toHaveAttribute('aria-invalid', 'true');
  await expect(archive.getByLabel('Reason')).toBeFocused();
  await expect(page.getByText('Version 6', { exact: true })).toBeVisible();
  await archive.getByLabel('Reason').fill('Building demolished');
  await archive.getByRole('button', { name: 'Archive address' }).click();
  await archive.getByRole('button', { name: 'Yes, archive' }).click();
  await expect(page.getByText('Version 7', { exact: true })).toBeVisible();
  await expect(page.getByText('This address is archived.')).toBeVisible();
  await expect(page.getByRole('form', { name: 'Change address' })).toHaveCount(0);
  // The archive form gave way to the restore form; its outcome stays on screen and takes the focus.
  await expect(page.getByRole('status').filter({ hasText: 'Address archived: now version 7.' })).toBeFocused();

  const restore = page.getByRole('form', { name: 'Restore address' });
  await restore.getByRole('button', { name: 'Restore address' }).click();
  await expect(page.getByText('Version 8', { exact: true })).toBeVisible();
  await expect(page.getByRole('form', { name: 'Change address' })).toBeVisible();
  const restored = page.getByRole('status').filter({ hasText: 'Address restored: now version 8.' });
  await expect(restored).toBeFocused();
  await expect(page.getByRole('status').filter({ hasText: 'Address archived' })).toHaveCount(0);

  // The timeline tells the whole story, newest first, with the reasons.
  await page.goto(`${addressUrl}/history`);
  await expect(page.locator('#v5')).toContainText('Corrects version 2');
  await expect(page.locator('#v5').getByRole('link', { name: 'version 2' })).toHaveAttribute('href', '#v2');
  await expect(page.locator('#v5')).toContainText('Reason: House number typed wrong');
  await expect(page.locator('#v2')).toContainText('Corrected by');
  await expect(page.locator('#v7')).toContainText('Reason: Building demolished');
  await expect(page.locator('.timeline-item')).toHaveCount(8);
});

test('registering an address that exists shows the existing one with a link, not an error', async ({ page }) => {
  await signInAsOperator(page, '/addresses/new');
  await page.getByLabel('Street address').fill('90 exchange  STREET');
  await page.getByLabel('Address line 2').fill('suite 300');
  await page.getByLabel('City / town').fill('Portland');
  await page.getByLabel('Postal code').fill('04101');
  await page.getByLabel('Country').selectOption('US');
  await page.getByLabel('Owner reference').fill('cust-0043');
  await page.getByRole('button', { name: 'Register address' }).click();
  await expect(page.getByText('This address is already registered. Nothing was saved.')).toBeVisible();
  await page.getByRole('link', { name: 'Open the existing address: 90 Exchange Street, Portland' }).click();
  await expect(page).toHaveURL(new RegExp(`${addressUrl}$`));
});
