import path from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import pg from 'pg';
import { runningEmbeddedUrls } from '@/lib/embedded-postgres';
import { signInAsAdmin } from './accounts';
import { E2E_DATA_DIR } from './environment';
import { expectSameDocument, markDocument } from './same-document';

/*
 * The live lag notice on /addresses (README "Search"), with the search index really behind: the
 * test holds the search projection back with a database transaction of its own, so the projector
 * of this run (scripts/start.ts) cannot catch up until the test lets go. Nothing is faked and
 * nothing sleeps: the notice appears because the index is behind and goes because it caught up.
 */

const CITY = 'Lagrange';
const LINE1 = '3 Lagging Lane';

/** The app's own database of this run, as the runtime role the projector uses. */
function databaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const urls = runningEmbeddedUrls(path.join(E2E_DATA_DIR, 'postgres'));
  if (!urls) throw new Error(`no embedded PostgreSQL is running for ${E2E_DATA_DIR}`);
  return urls.url;
}

async function register(page: Page, data: Record<string, string>) {
  // A cookie-authenticated write must come from this site (Origin), as a browser's would.
  const res = await page.request.post('/api/addresses', { data, headers: { origin: new URL(page.url()).origin } });
  expect(res.status(), await res.text()).toBe(201);
}

test.setTimeout(120_000);

test('the lag notice shows while the search index is held behind, and goes by itself once it caught up', async ({
  page,
}) => {
  await signInAsAdmin(page);
  // The index is current before the hold, so the one event behind below is the test's doing. (In a
  // full run the import spec before this one may have left the projector a few thousand events to do.)
  await expect
    .poll(
      async () => {
        const status = await (await page.request.get('/api/projections')).json();
        return status.projections.find((p: { name: string }) => p.name === 'address_search')?.lagEvents;
      },
      { timeout: 45_000 },
    )
    .toBe(0);

  const hold = new pg.Client({ connectionString: databaseUrl() });
  await hold.connect();
  let held = false;
  try {
    // An open transaction holding the search projection's checkpoint row: the projector can
    // neither move that checkpoint nor read events committed after this began (gap-safe reading
    // waits for every older transaction, projections/README.md), so the index stays behind.
    await hold.query('BEGIN');
    held = true;
    const locked = await hold.query(`SELECT name FROM projection_checkpoints WHERE name = 'address_search' FOR UPDATE`);
    expect(locked.rowCount).toBe(1);

    await register(page, { line1: LINE1, city: CITY, region: 'ME', postalCode: '04222', country: 'US' });

    await page.goto(`/addresses?city=${CITY}`);
    const notice = page.locator('.lag-notice');
    // "about N s" joins the sentence once the event is a second old; the count is what matters.
    await expect(notice).toContainText('The search index is catching up: results may be 1 event behind');
    await expect(page.getByRole('heading', { name: 'No addresses found' })).toBeVisible();
    await markDocument(page);

    await hold.query('ROLLBACK');
    held = false;

    // The notice follows /api/projections and leaves without a reload; the list is asked again.
    await expect(notice).toHaveCount(0);
    await expect(page.locator('.hit .hit-title')).toHaveText([LINE1], { useInnerText: true });
    await expectSameDocument(page);
  } finally {
    if (held) await hold.query('ROLLBACK');
    await hold.end();
  }
});
