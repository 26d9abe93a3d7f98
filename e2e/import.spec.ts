import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { parse as parseCsv } from 'csv-parse/sync';
import { createAccount, signIn, signInAsAdmin } from './accounts';

/*
 * The upload page /import in a real browser (issue 12): an operator uploads a CSV with good and
 * bad rows, watches the run's progress and counters, downloads the report of rejected rows; a bad
 * file gets a clear message and starts nothing; an auditor cannot upload.
 */
test.describe.configure({ mode: 'serial' });

const IMPORTER = { name: 'Iris Importer', email: 'iris.importer@example.org', password: 'e2e importer password 1' };
const READER = { name: 'Rita Reader', email: 'rita.reader@example.org', password: 'e2e reader password 1' };

const HEADER = 'id,house_number,street,unit,city,district,region,region_code,postal_code,country,lat,lon,source';
// Enough rows that the run takes a moment; every street is distinct (the duplicate guard).
const GOOD = Array.from(
  { length: 1500 },
  (_, i) => `e2e-${i + 1},${i + 1},Import Lane,,Portland,,Maine,ME,04101,US,,,e2e`,
);
const BAD = [
  'e2e-bad-1,7,Import Lane,,Portland,,Maine,ME,ABC-12,US,,,e2e',
  'e2e-bad-2,9,Import Lane,,,,Maine,ME,04101,US,,,e2e',
];
const FILE = {
  name: 'e2e-upload.csv',
  mimeType: 'text/csv',
  buffer: Buffer.from(`${[HEADER, ...GOOD, ...BAD].join('\n')}\n`),
};

test.beforeAll(async ({ browser }) => {
  const admin = await browser.newContext();
  const page = await admin.newPage();
  await signInAsAdmin(page);
  await createAccount(page, IMPORTER, 'operator');
  await createAccount(page, READER, 'auditor');
  await admin.close();
});

test('an operator uploads a CSV with good and bad rows, watches it run and downloads the report', async ({ page }) => {
  await signIn(page, IMPORTER);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/import$/);
  await expect(page.getByRole('heading', { name: 'Import addresses' })).toBeVisible();

  const form = page.getByRole('form', { name: 'Upload a CSV file' });
  await form.getByLabel('CSV file').setInputFiles(FILE);
  await form.getByRole('button', { name: 'Upload and import' }).click();
  await expect(form.getByRole('status')).toHaveText(/Import of e2e-upload\.csv started as source e2e-upload/);

  // The run is the server's: leaving the page does not stop it.
  await page.goto('/addresses');
  await page.goto('/import');

  // The run's card: its progress bar and counters move without a reload, until it is done.
  const run = page.getByRole('listitem', { name: 'Import of e2e-upload.csv' }).first();
  const progress = run.getByRole('progressbar', { name: 'Progress of e2e-upload.csv' });
  await expect(progress).toBeVisible();
  await expect(run.getByText('Done')).toBeVisible({ timeout: 120_000 });
  await expect(run.getByText(/1,502 rows read/)).toBeVisible();
  expect(await progress.getAttribute('value')).toBe(await progress.getAttribute('max'));
  await expect(run.locator('[data-counter="registered"]')).toHaveText('1500');
  await expect(run.locator('[data-counter="rejected"]')).toHaveText('2');
  await expect(run.getByText(`by ${IMPORTER.name}`)).toBeVisible();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    run.getByRole('link', { name: 'Download the rejected rows of e2e-upload.csv (CSV)' }).click(),
  ]);
  const report = parseCsv(await readFile((await download.path())!, 'utf8'), { columns: true }) as Record<
    string,
    string
  >[];
  expect(report.map((r) => [r.row, r.id, r.street, r.reasons])).toEqual([
    ['1501', 'e2e-bad-1', 'Import Lane', 'postalCode: postal code ABC-12 is not valid for US'],
    ['1502', 'e2e-bad-2', 'Import Lane', expect.stringMatching(/^city: /)],
  ]);

  // The registered rows are addresses like any other: search finds one.
  const found = await page.request.get('/api/addresses?q=1500+Import+Lane');
  expect(found.status()).toBe(200);
});

test('a file over 10 MB arrives whole (the upload route is not cut by the proxy body limit)', async ({
  page,
  baseURL,
}) => {
  await signIn(page, IMPORTER);
  // Two valid rows with a 6 MB notes column each: 12 MB in all, read to the last byte.
  const notes = 'n'.repeat(6 * 1024 * 1024);
  const body = Buffer.from(
    `${HEADER},notes\n` +
      `big-1,1,Large File Road,,Portland,,Maine,ME,04101,US,,,e2e,${notes}\n` +
      `big-2,2,Large File Road,,Portland,,Maine,ME,04101,US,,,e2e,${notes}\n`,
  );
  const res = await page.request.post('/api/imports?filename=big.csv', {
    headers: { origin: new URL(baseURL!).origin, 'content-type': 'text/csv' },
    data: body,
    timeout: 120_000,
  });
  expect(res.status(), await res.text()).toBe(202);
  const run = await res.json();
  expect(run.fileBytes).toBe(body.length);
  await expect
    .poll(async () => (await (await page.request.get(`/api/imports/${run.id}`)).json()).status, { timeout: 60_000 })
    .toBe('done');
  const done = await (await page.request.get(`/api/imports/${run.id}`)).json();
  expect(done).toMatchObject({ bytesRead: body.length, summary: { rows: 2, registered: 2, rejected: 0 } });
});

test('a file that is not UTF-8 CSV gets a clear message and starts nothing', async ({ page }) => {
  await signIn(page, IMPORTER, '/import');
  const runsBefore = await page.getByRole('listitem', { name: /^Import of / }).count();
  const form = page.getByRole('form', { name: 'Upload a CSV file' });
  await form.getByLabel('CSV file').setInputFiles({
    name: 'excel-unicode.csv',
    mimeType: 'text/csv',
    buffer: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\n${GOOD[0]}\n`, 'utf16le')]),
  });
  await form.getByRole('button', { name: 'Upload and import' }).click();
  await expect(form.getByRole('alert')).toHaveText(
    /The file was not imported: .*the file is UTF-16 text, not UTF-8; save it as CSV in UTF-8 and try again/,
  );
  await page.reload();
  await expect(page.getByRole('listitem', { name: /^Import of / })).toHaveCount(runsBefore);
  await expect(page.getByRole('listitem', { name: 'Import of excel-unicode.csv' })).toHaveCount(0);
});

test('an auditor has no Import link, cannot open /import and cannot upload', async ({ page, baseURL }) => {
  await signIn(page, READER);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Import' })).toHaveCount(0);
  await page.goto('/import');
  await expect(page).toHaveURL(/\/forbidden$/);
  const res = await page.request.post('/api/imports?filename=x.csv', {
    headers: { origin: new URL(baseURL!).origin, 'content-type': 'text/csv' },
    data: FILE.buffer,
  });
  expect(res.status()).toBe(403);
  expect((await res.json()).error.code).toBe('forbidden');
});

test('the page works at 360 px and 1280 px wide', async ({ page }) => {
  await signIn(page, IMPORTER, '/import');
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `horizontal overflow at ${width} px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: test.info().outputPath(`import-${width}.png`), fullPage: true });
  }
});
