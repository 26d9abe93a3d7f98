import { expect, type Page } from '@playwright/test';

/*
 * A mark on the window: still there after a change means the document was not reloaded (the
 * change was the client's, through the History API and the query cache, not a navigation).
 */

export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __documentMark: number }).__documentMark = 42;
  });
}

export async function expectSameDocument(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __documentMark?: number }).__documentMark)).toBe(42);
}
