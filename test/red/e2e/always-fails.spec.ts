// Run only by test/exit-status-guard.ts (playwright.config.ts points testDir here when
// E2E_RED_CHECK=1): proves that a failing end-to-end test makes the tier exit non-zero.
import { expect, test } from '@playwright/test';

test('fails on purpose', async ({ page }) => {
  await page.goto('/api/health');
  await expect(page.locator('body')).toHaveText('this text is never on the page', { timeout: 1_000 });
});
