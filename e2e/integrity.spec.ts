import { expect, test } from '@playwright/test';
import { signInAsAdmin } from './accounts';

/*
 * Tamper evidence on /admin (issue 8): the projector seals the log, the badge shows the last
 * verification, and "Verify now" runs in the background and records an intact result, with the
 * keyboard alone and under the CSP.
 */

test('an admin sees the newest seal and its key, and "Verify now" reports the log intact', async ({
  page,
}, testInfo) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  await signInAsAdmin(page);
  // Something to seal, through the app as an operator would (the admin may write too).
  await page.goto('/addresses/new');
  await page.getByLabel('Street address').fill('7 Seal Street');
  await page.getByLabel('City / town').fill('Portland');
  await page.getByLabel('Postal code').fill('04101');
  await page.getByLabel('Country').selectOption('US');
  await page.getByRole('button', { name: 'Register address' }).click();
  await expect(page).toHaveURL(/\/addresses\/[0-9a-f-]{36}/);

  const section = page.getByRole('region', { name: /Integrity/ });
  await expect(async () => {
    await page.goto('/admin');
    // Counts are shown with thousands separators, and the e2e run passes 1,000 events (e2e/import.spec.ts).
    await expect(section.getByTestId('latest-seal')).toContainText(/#[\d,]+: [\d,]+ events up to position [\d,]+/, {
      timeout: 1_000,
    });
  }).toPass({ timeout: 30_000 });
  await expect(section.getByTestId('seal-public-key')).toHaveText(/^MCowBQYDK2VwAyEA[A-Za-z0-9+/=]{44}$/);

  const button = section.getByRole('button', { name: 'Verify now' });
  await button.focus();
  await page.keyboard.press('Enter');
  await expect(section.getByRole('form', { name: 'Verify now' }).getByRole('status')).toContainText(
    'Verification started',
  );
  // The page refreshes itself while the job runs; the badge ends at "intact" with the counts.
  await expect(section.getByRole('heading', { name: /Integrity/ })).toContainText('intact', { timeout: 30_000 });
  await expect(section).toContainText(/Last verified .* from this page: [\d,]+ events in [\d,]+ streams, [\d,]+ seals/);
  expect(violations).toEqual([]);

  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: testInfo.outputPath(`admin-integrity-${width}.png`), fullPage: true });
    // Nothing of the section sticks out sideways at this width (the long key wraps).
    const overflow = await section.evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const box = await section.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(width);
  }
});
