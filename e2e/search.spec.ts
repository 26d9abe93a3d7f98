import { type Browser, expect, type Page, test } from '@playwright/test';
import { signInAsAdmin } from './accounts';
import { expectSameDocument, markDocument } from './same-document';

/*
 * The search page as people use it (issue 9): results follow the typing without Enter, the URL
 * holds the whole screen so Back restores it, facets, status and sort change the list without a
 * document navigation, the keyboard alone finds and opens an address, and with JavaScript off the
 * same page still searches by submitting its form. Serial: the first step registers the addresses.
 */
test.describe.configure({ mode: 'serial' });

const CITY = 'Topsham';
const ADDRESSES = [
  { line1: '14 Whitcomb Street', postalCode: '04086' },
  { line1: '22 Whitcomb Street', postalCode: '04086' },
  { line1: '5 Quimby Lane', postalCode: '04086' },
  { line1: '9 Quimby Lane', postalCode: '04086', archive: true },
];
let storageState: Awaited<ReturnType<ReturnType<Page['context']>['storageState']>>;
const ids = new Map<string, string>();

async function api(page: Page, path: string, data: unknown) {
  // A cookie-authenticated write must come from this site (Origin), as a browser's would.
  const res = await page.request.post(path, { data, headers: { origin: new URL(page.url()).origin } });
  expect(res.status(), await res.text()).toBeLessThan(300);
  return res.json();
}

test.beforeAll(async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAsAdmin(page);
  for (const a of ADDRESSES) {
    const created = await api(page, '/api/addresses', {
      line1: a.line1,
      city: CITY,
      region: 'ME',
      postalCode: a.postalCode,
      country: 'US',
    });
    ids.set(a.line1, created.id);
    if (a.archive) {
      await api(page, `/api/addresses/${created.id}/archive`, { expectedVersion: 1, reason: 'Demolished' });
    }
  }
  // The search index is eventually consistent: wait until it has all four, the archive included.
  await expect
    .poll(
      async () => {
        const res = await page.request.get(`/api/addresses?city=${CITY}&status=archived`);
        const all = await page.request.get(`/api/addresses?city=${CITY}`);
        return [(await all.json()).total, (await res.json()).total];
      },
      { timeout: 30_000 },
    )
    .toEqual([4, 1]);
  storageState = await context.storageState();
  await context.close();
});

async function signedIn(browser: Browser, options: { javaScriptEnabled?: boolean } = {}) {
  const context = await browser.newContext({ storageState, ...options });
  return { context, page: await context.newPage() };
}

const hits = (page: Page) => page.locator('.hit .hit-title');
/** The listed streets in alphabetical order (ties in ranking go to the most recently updated). */
const listed = async (page: Page) => (await hits(page).allInnerTexts()).sort();
const searchBox = (page: Page) => page.getByRole('searchbox', { name: 'Search' });

test('typing a misspelt street narrows the list without Enter, within a second', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  // Under the CSP, and without React complaining (a hydration mismatch is a console error).
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  await page.goto(`/addresses?city=${CITY}`);
  await expect(hits(page)).toHaveCount(4);
  await markDocument(page);

  await searchBox(page).pressSequentially('whitomb');
  await expect.poll(() => listed(page), { timeout: 1_000 }).toEqual(['14 Whitcomb Street', '22 Whitcomb Street']);
  await expect(page).toHaveURL(/[?&]q=whitomb(&|$)/);
  await expect(page.getByRole('heading', { name: '2 addresses' })).toBeVisible();
  // The count is announced politely once the results are in.
  await expect(page.locator('[aria-live="polite"]', { hasText: '2 addresses' })).toHaveCount(1);
  await expectSameDocument(page);
  expect(problems).toEqual([]);
  await context.close();
});

test('Back restores the previous query and its results, Forward the next', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto(`/addresses?city=${CITY}`);
  await markDocument(page);
  await searchBox(page).pressSequentially('whitcomb');
  await expect(hits(page)).toHaveCount(2);
  await expect(page).toHaveURL(/q=whitcomb/);

  // Typed over (select all, then the new word): a new search, so a new history entry.
  await searchBox(page).press('ControlOrMeta+a');
  await searchBox(page).pressSequentially('quimby');
  await expect.poll(() => listed(page)).toEqual(['5 Quimby Lane', '9 Quimby Lane']);

  await page.goBack();
  await expect(page).toHaveURL(/q=whitcomb/);
  await expect(searchBox(page)).toHaveValue('whitcomb');
  await expect.poll(() => listed(page)).toEqual(['14 Whitcomb Street', '22 Whitcomb Street']);

  await page.goForward();
  await expect(searchBox(page)).toHaveValue('quimby');
  await expect.poll(() => listed(page)).toEqual(['5 Quimby Lane', '9 Quimby Lane']);
  await expectSameDocument(page);
  await context.close();
});

test('a facet, a status and a sort change the list without a document navigation', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto(`/addresses?city=${CITY}&q=lane`);
  await expect(hits(page)).toHaveCount(2);
  await markDocument(page);

  await page.getByLabel('Status').selectOption('archived');
  await expect(hits(page)).toHaveText(['9 Quimby Lane'], { useInnerText: true });
  await expect(page).toHaveURL(/status=archived/);

  // The facet chip takes the status filter off again: both Quimby Lane addresses.
  await page.getByRole('link', { name: /Status: archived/ }).click();
  await expect(hits(page)).toHaveCount(2);
  await expect(page).not.toHaveURL(/status=/);

  // A facet value adds a filter.
  await page
    .locator('.facet-group', { hasText: 'Status' })
    .getByRole('link', { name: /Archived/ })
    .click();
  await expect(page).toHaveURL(/status=archived/);
  await expect(hits(page)).toHaveText(['9 Quimby Lane'], { useInnerText: true });
  await page.goBack();
  await expect(hits(page)).toHaveCount(2);

  // Sort: asks the API again (the order of these two is the same either way: ties in ranking go
  // to the most recently updated), and the page says which order it shows.
  const sorted = page.waitForResponse((r) => r.url().includes('/api/addresses?') && r.url().includes('sort=updated'));
  await page.getByLabel('Sort by').selectOption('updated');
  expect((await sorted).status()).toBe(200);
  await expect(page).toHaveURL(/sort=updated/);
  await expect(page.getByLabel('Sort by')).toHaveValue('updated');
  await expect(hits(page).first()).toHaveText('9 Quimby Lane');
  await expectSameDocument(page);
  await context.close();
});

test('the keyboard alone finds and opens an address; Escape clears the search', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto('/addresses');
  // Tab from the top of the page to the search box.
  for (let i = 0; i < 30; i++) {
    if (await searchBox(page).evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(searchBox(page)).toBeFocused();
  await page.keyboard.type('whitcomb topsham');
  await expect(hits(page)).toHaveCount(2);

  await page.keyboard.press('ArrowDown');
  await expect(hits(page).nth(0)).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(hits(page).nth(1)).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(hits(page).nth(0)).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(searchBox(page)).toBeFocused();

  await page.keyboard.press('Escape');
  await expect(searchBox(page)).toHaveValue('');
  await expect(page).not.toHaveURL(/q=/);

  await page.keyboard.type('22 whitcomb');
  await expect(hits(page)).toHaveText(['22 Whitcomb Street'], { useInnerText: true });
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/addresses/${ids.get('22 Whitcomb Street')}$`));
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`22 Whitcomb Street, ${CITY}`);
  await context.close();
});

test('a country the search cannot read is named on the page, and the rest of the search still runs', async ({
  browser,
}) => {
  const { context, page } = await signedIn(browser);
  // The API refuses it (422); the page searches without it and says so instead of dropping it silently.
  await page.goto(`/addresses?city=${CITY}&q=whitcomb&country=Narnia`);
  const notice = page.getByText('The country “Narnia” was left out of the search. It must be a country:');
  await expect(notice).toBeVisible();
  expect(await listed(page)).toEqual(['14 Whitcomb Street', '22 Whitcomb Street']);
  await expect(page.getByLabel('Country')).toHaveValue('Narnia');

  // Typing a known country instead: the notice goes, and the country filter applies (alpha-3 read as US).
  await page.getByLabel('Country').fill('USA');
  await expect(page).toHaveURL(/country=USA/);
  await expect(notice).toHaveCount(0);
  expect(await listed(page)).toEqual(['14 Whitcomb Street', '22 Whitcomb Street']);
  await context.close();
});

test('with JavaScript off, the search works by submitting the form', async ({ browser }) => {
  const { context, page } = await signedIn(browser, { javaScriptEnabled: false });
  await page.goto('/addresses');
  await searchBox(page).fill('whitcomb topsham');
  await searchBox(page).press('Enter');
  await expect(page).toHaveURL(/\/addresses\?q=whitcomb\+topsham/);
  expect(await listed(page)).toEqual(['14 Whitcomb Street', '22 Whitcomb Street']);

  // The filters travel with the same form (the Search button submits them all).
  await page.goto(`/addresses?city=${CITY}`);
  await page.getByLabel('Status').selectOption('archived');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/status=archived/);
  await expect(hits(page)).toHaveText(['9 Quimby Lane'], { useInnerText: true });

  // Facets and pages are plain links.
  await page.getByRole('link', { name: /Status: archived/ }).click();
  await expect(hits(page)).toHaveCount(4);
  await context.close();
});

test('at 360 px the first result is on the first screen, the filters behind a disclosure; screenshots', async ({
  browser,
}, testInfo) => {
  for (const width of [360, 1280]) {
    const { context, page } = await signedIn(browser);
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`/addresses?city=${CITY}`);
    await expect(hits(page)).toHaveCount(4);
    const filters = page.locator('details').filter({ has: page.locator('summary', { hasText: /^Filters/ }) });
    if (width === 360) {
      await expect(hits(page).first()).toBeInViewport();
      await expect(page.getByLabel('Region / state')).toBeHidden();
      await filters.locator('summary').click();
      await expect(page.getByLabel('Region / state')).toBeVisible();
      await filters.locator('summary').click();
    } else {
      // Wide: the filters are always shown beside the results, no disclosure to open.
      await expect(page.getByLabel('Region / state')).toBeVisible();
      await expect(filters.locator('summary')).toBeHidden();
    }
    await page.screenshot({ path: testInfo.outputPath(`addresses-${width}.png`), fullPage: true });
    await context.close();
  }
});

test('after an edit, going back to the list never shows the old value', async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto(`/addresses?city=${CITY}&q=quimby`);
  await expect(hits(page)).toHaveCount(2);
  await page.getByRole('link', { name: '5 Quimby Lane' }).click();
  await expect(page).toHaveURL(new RegExp(`/addresses/${ids.get('5 Quimby Lane')}$`));

  const form = page.getByRole('form', { name: 'Change address' });
  await form.getByLabel('Street address').fill('7 Quimby Lane');
  await form.getByLabel('Reason').fill('Renumbered');
  await form.getByRole('button', { name: 'Save change' }).click();
  await expect(form.getByRole('status')).toHaveText('Change saved: now version 2.');

  // From here on, record every street the list shows, however briefly.
  await page.evaluate(() => {
    const seen = new Set<string>();
    (window as unknown as { __streets: Set<string> }).__streets = seen;
    new MutationObserver(() => {
      for (const a of document.querySelectorAll('.hit .hit-title')) seen.add(a.textContent ?? '');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.goBack();
  await expect.poll(() => listed(page)).toEqual(['7 Quimby Lane', '9 Quimby Lane']);
  await expect(hits(page).filter({ hasText: '7 Quimby Lane' }).locator('xpath=ancestor::li')).toContainText('v2');
  const streets = await page.evaluate(() => [...(window as unknown as { __streets: Set<string> }).__streets]);
  expect(streets).not.toContain('5 Quimby Lane');
  await context.close();
});
