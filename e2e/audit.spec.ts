import { readFile } from 'node:fs/promises';
import { expect, type Page, test } from '@playwright/test';
import { parse as parseCsv } from 'csv-parse/sync';
import { createAccount, signIn, signInAsAdmin } from './accounts';
import { expectSameDocument, markDocument } from './same-document';

/*
 * The auditor's workspace in a real browser: filter the audit log with actor: and type:
 * qualifiers, see only those rows, remove a chip, download the CSV and find the screen's rows in
 * it, see the export and the timeline views in the access trail, compare two versions; and the
 * doors stay shut for an operator and an anonymous visitor. Serial: later steps use the data
 * the first one writes.
 */
test.describe.configure({ mode: 'serial' });

const AUDITOR = { name: 'Ines Inspector', email: 'ines.inspector@example.org', password: 'e2e inspector password 1' };
const WRITER = { name: 'Wanda Writer', email: 'wanda.writer@example.org', password: 'e2e writer password 1' };

let addressId = '';

async function api(page: Page, method: 'post' | 'patch', path: string, data: unknown) {
  // A cookie-authenticated write must come from this site (Origin), as a browser's would.
  const res = await page.request[method](path, { data, headers: { origin: new URL(page.url()).origin } });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res.json();
}

test.beforeAll(async ({ browser }) => {
  const admin = await browser.newContext();
  const page = await admin.newPage();
  await signInAsAdmin(page);
  await createAccount(page, AUDITOR, 'auditor');
  await createAccount(page, WRITER, 'operator');
  // The admin writes one address too, so the actor filter has something to leave out.
  await api(page, 'post', '/api/addresses', {
    line1: '1 Admin Avenue',
    city: 'Bangor',
    region: 'ME',
    postalCode: '04401',
    country: 'US',
  });
  await admin.close();

  const writer = await browser.newContext();
  const wp = await writer.newPage();
  await signIn(wp, WRITER);
  const created = await api(wp, 'post', '/api/addresses', {
    line1: '80 Third Street',
    city: 'Auburn',
    region: 'ME',
    postalCode: '04210',
    country: 'US',
  });
  addressId = created.id;
  await api(wp, 'patch', `/api/addresses/${addressId}`, {
    expectedVersion: 1,
    changes: { postalCode: '04211', line1: '82 Third Street' },
    reason: 'new ZIP from USPS',
  });
  const other = await api(wp, 'post', '/api/addresses', {
    line1: '5 Elm Street',
    city: 'Portland',
    region: 'ME',
    postalCode: '04101',
    country: 'US',
  });
  await api(wp, 'patch', `/api/addresses/${other.id}`, {
    expectedVersion: 1,
    changes: { owner: 'CUST-7' },
  });
  await writer.close();
});

async function rowsOnScreen(page: Page) {
  return page.locator('.audit-row').evaluateAll((rows) =>
    rows.map((r) => ({
      position: /Position (\d+)/.exec(r.textContent ?? '')?.[1] ?? '',
      label: r.querySelector('.event-label')?.textContent ?? '',
      actor: r.querySelector('.meta strong')?.textContent ?? '',
    })),
  );
}

test('an auditor filters by actor: and type:, removes a chip, and downloads the rows on screen', async ({ page }) => {
  await signIn(page, AUDITOR, '/audit');
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  // From here on every search, chip and Back is the page's own (GET /api/audit), not a document load.
  await markDocument(page);

  // Keyboard only: the search box, the query, Enter.
  await page.getByRole('searchbox', { name: 'Search the audit log' }).focus();
  await page.keyboard.type(`actor:"${WRITER.name}" type:AddressChanged`);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/[?&]q=actor%3A%22Wanda/);
  const chips = page.getByRole('list', { name: 'Filters in effect' });
  await expect(chips.getByRole('link')).toHaveText([/actor:\s*Wanda Writer/, /type:\s*AddressChanged/]);
  const changed = await rowsOnScreen(page);
  expect(changed.map((r) => [r.label, r.actor])).toEqual([
    ['Changed', WRITER.name],
    ['Changed', WRITER.name],
  ]);
  await expect(page.getByText('Postal code', { exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: '2 events' })).toBeVisible();
  await expectSameDocument(page);
  await page.screenshot({ path: test.info().outputPath('audit-1280.png'), fullPage: true });

  // Remove the type chip with the keyboard: the writer's registrations come back.
  await page.getByRole('link', { name: 'Remove filter type:AddressChanged' }).focus();
  await page.keyboard.press('Enter');
  await expect(chips.getByRole('link')).toHaveText([/actor:\s*Wanda Writer/]);
  await expect(page.getByRole('heading', { name: '4 events' })).toBeVisible();
  const screen = await rowsOnScreen(page);
  expect(screen.map((r) => r.label)).toEqual(['Changed', 'Registered', 'Changed', 'Registered']);
  expect(new Set(screen.map((r) => r.actor))).toEqual(new Set([WRITER.name]));
  await expectSameDocument(page);

  // Back restores the filter, its chips and its rows; Forward the chip removed. Still one document.
  await page.goBack();
  await expect(page).toHaveURL(/type%3AAddressChanged/);
  await expect(chips.getByRole('link')).toHaveText([/actor:\s*Wanda Writer/, /type:\s*AddressChanged/]);
  await expect(page.getByRole('heading', { name: '2 events' })).toBeVisible();
  await expect(page.getByRole('searchbox', { name: 'Search the audit log' })).toHaveValue(
    `actor:"${WRITER.name}" type:AddressChanged`,
  );
  await page.goForward();
  await expect(chips.getByRole('link')).toHaveText([/actor:\s*Wanda Writer/]);
  await expect(page.getByRole('heading', { name: '4 events' })).toBeVisible();
  expect((await rowsOnScreen(page)).map((r) => r.position)).toEqual(screen.map((r) => r.position));
  await expectSameDocument(page);

  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download CSV' }).click();
  const file = await (await downloading).path();
  const records = parseCsv(await readFile(file), { bom: true, comment: '#', columns: true }) as Record<
    string,
    string
  >[];
  expect(records.map((r) => [r.position, r.event, r.actor_name])).toEqual(
    screen.map((r) => [r.position, r.label, r.actor]),
  );
  expect(records.find((r) => r.postalCode_after === '04211')).toMatchObject({
    event: 'Changed',
    postalCode_before: '04210',
    line1_before: '80 Third Street',
    line1_after: '82 Third Street',
    acted_via: 'session',
    reason: 'new ZIP from USPS',
  });

  await page.setViewportSize({ width: 360, height: 800 });
  await page.screenshot({ path: test.info().outputPath('audit-360.png'), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'nothing sticks out sideways at 360 px').toBeLessThanOrEqual(0);
});

test('a bad qualifier is explained on the page, naming it', async ({ page }) => {
  await signIn(page, AUDITOR, '/audit?q=colour:red');
  await expect(page.getByRole('main').getByRole('alert')).toContainText('unknown qualifier "colour:"');
});

test('the field-by-field form folds into qualifiers in the browser; a query it cannot read goes to the server', async ({
  page,
}) => {
  // Under the CSP, and without React complaining (a hydration mismatch is a console error).
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  await signIn(page, AUDITOR, '/audit');
  await expect(page.getByRole('heading', { name: /events$/ })).toBeVisible();
  await markDocument(page);

  await page.getByText('Add a filter field by field').click();
  await page.getByLabel('Actor (name or id)').fill(WRITER.name);
  await page.getByLabel('Source').selectOption('api');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const chips = page.getByRole('list', { name: 'Filters in effect' });
  await expect(chips.getByRole('link')).toHaveText([/actor:\s*Wanda Writer/, /source:\s*api/]);
  await expect(page).toHaveURL(/\/audit\?q=actor%3A%22Wanda\+Writer%22\+source%3Aapi$/);
  await expect(page.getByRole('heading', { name: '4 events' })).toBeVisible();
  await expect(page.getByLabel('Actor (name or id)')).toHaveValue('');
  await expectSameDocument(page);

  // An unknown qualifier cannot be folded here: the form is submitted and the server names it.
  const box = page.getByRole('searchbox', { name: 'Search the audit log' });
  await box.fill('colour:red');
  await box.press('Enter');
  await expect(page.getByRole('main').getByRole('alert')).toContainText('unknown qualifier "colour:"');
  await expect(box).toHaveValue('colour:red');
  expect(problems).toEqual([]);
});

test('compare shows exactly the fields that differ between two versions, and the events between', async ({ page }) => {
  await signIn(page, AUDITOR, `/addresses/${addressId}/history`);
  await page.getByRole('link', { name: 'Compare with previous' }).first().click();
  await expect(page).toHaveURL(new RegExp(`/addresses/${addressId}/compare\\?from=1&to=2$`));
  await expect(page.getByRole('heading', { name: 'Version 1 and version 2 (current)' })).toBeVisible();
  const differing = await page
    .locator('tr.differs')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-field')));
  expect(differing).toEqual(['line1', 'postalCode']);
  await expect(page.locator('tr[data-field="postalCode"] td')).toHaveText(['04210', '04211']);
  await expect(page.getByRole('heading', { name: '1 event in between' })).toBeVisible();
  await expect(page.getByText('Reason: new ZIP from USPS')).toBeVisible();
  await page.setViewportSize({ width: 360, height: 800 });
  await page.screenshot({ path: test.info().outputPath('compare-360.png'), fullPage: true });
});

test('the access trail holds the export and each timeline view, with filter and row count', async ({ page }) => {
  await signIn(page, AUDITOR, '/audit/access?action=audit.export');
  // Entries are written in batches a moment after the request they record.
  await expect(async () => {
    await page.reload();
    await expect(page.locator('.audit-table tbody tr')).toHaveCount(1);
  }).toPass();
  await expect(page.locator('.audit-table tbody tr')).toContainText(`q: actor:"${WRITER.name}"`);
  await expect(page.locator('.audit-table tbody tr td[data-label="Rows"]')).toHaveText('4');

  await page.goto(`/audit/access?action=timeline.view&address=${addressId}`);
  await expect(async () => {
    await page.reload();
    await expect(page.locator('.audit-table tbody tr')).toHaveCount(2);
  }).toPass();
  await expect(page.locator('.audit-table tbody tr').first()).toContainText('compare: 1..2');
  await expect(page.locator('.audit-table tbody tr td[data-label="Who"]')).toHaveText([
    /Ines Inspector/,
    /Ines Inspector/,
  ]);

  // Filtering happens in the page (the query cache reads GET /api/audit/access), and Back
  // restores the previous filter with its rows.
  await markDocument(page);
  await page.getByLabel('What').selectOption('audit.export');
  await page.getByLabel('Address id').fill('');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/audit\/access\?action=audit\.export$/);
  await expect(page.locator('.audit-table tbody tr td[data-label="What"]').first()).toHaveText('Audit export');
  await expectSameDocument(page);
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`action=timeline\\.view&address=${addressId}$`));
  await expect(page.locator('.audit-table tbody tr')).toHaveCount(2);
  await expect(page.getByLabel('Address id')).toHaveValue(addressId);
  await expectSameDocument(page);
});

test('an operator and an anonymous visitor cannot reach the audit log or its export', async ({ page, browser }) => {
  await signIn(page, WRITER, '/audit');
  await expect(page).toHaveURL(/\/forbidden$/);
  await page.goto('/audit/access');
  await expect(page).toHaveURL(/\/forbidden$/);
  const asOperator = await page.request.get('/api/audit/export?format=csv');
  expect(asOperator.status()).toBe(403);
  expect((await asOperator.json()).error.code).toBe('forbidden');

  const anonymous = await browser.newContext();
  const anon = await anonymous.newPage();
  await anon.goto('/audit');
  await expect(anon).toHaveURL(/\/sign-in\?next=%2Faudit$/);
  const res = await anonymous.request.get('/api/audit/export?format=csv');
  expect(res.status()).toBe(401);
  expect((await anonymous.request.get('/api/audit')).status()).toBe(401);
  await anonymous.close();
});
