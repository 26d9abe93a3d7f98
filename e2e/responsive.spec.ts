import { expect, test } from '@playwright/test';
import { openPage, PAGES, pageSessionsForThisFile, WIDTHS } from './pages';

/*
 * Issue 9 §5: every page fits a 360 px phone and a 1280 px desktop without sideways scrolling,
 * and the run leaves a full-page screenshot of each in its output folder (test-results/, not
 * committed) for a person to look at.
 */
const sessions = pageSessionsForThisFile();

for (const pageCase of PAGES) {
  for (const width of WIDTHS) {
    test(`${pageCase.name} fits ${width} px`, async () => {
      const page = await sessions().context(pageCase.as).newPage();
      await page.setViewportSize({ width, height: 800 });
      await openPage(page, pageCase, sessions().fixture);
      await page.screenshot({ path: test.info().outputPath(`${pageCase.name}-${width}.png`), fullPage: true });
      const { scrollWidth, viewport, widest } = await page.evaluate(() => {
        const vw = document.documentElement.clientWidth;
        // Names what sticks out, so a failure says where to look.
        const wide = [...document.querySelectorAll<HTMLElement>('body *')]
          .filter((el) => el.getBoundingClientRect().right > vw + 0.5)
          .slice(0, 5)
          .map(
            (el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)} px)`,
          );
        return { scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth, widest: wide };
      });
      expect(scrollWidth, `wider than the viewport: ${widest.join(', ')}`).toBeLessThanOrEqual(viewport);
      if (pageCase.as !== 'anonymous') {
        // The header collapses instead of pushing "Sign out" off the screen.
        const signOut = await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).boundingBox();
        expect(signOut!.x).toBeGreaterThanOrEqual(0);
        expect(signOut!.x + signOut!.width).toBeLessThanOrEqual(viewport);
      }
      await page.close();
    });
  }
}
