import { defineConfig, devices } from '@playwright/test';
import { E2E_DATA_DIR as dataDir, E2E_PORT as port } from './e2e/environment';

export default defineConfig({
  // E2E_RED_CHECK: test/exit-status-guard.ts runs the spec that fails on purpose instead.
  testDir: process.env.E2E_RED_CHECK === '1' ? 'test/red/e2e' : 'e2e',
  // The specs share one app and one database whose first-run state matters (the first account
  // becomes admin), so they run one after another in file order.
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  timeout: 60_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        // Debian's Chromium: Playwright's own browser download is not reachable from here.
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
  webServer: {
    command: 'npx tsx scripts/start.ts',
    url: `http://127.0.0.1:${port}/api/health`,
    timeout: 300_000,
    reuseExistingServer: false,
    // Piped so a failed build or start shows in the test output.
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      PORT: String(port),
      DATA_DIR: dataDir,
      FRESH_DATA: '1',
      LOG_LEVEL: 'warn',
      // Seal within a second so e2e/integrity.spec.ts sees a seal without waiting 10 s.
      SEAL_INTERVAL_MS: '1000',
      // A DATABASE_URL given to `npm test` is a superuser's (the integration tier creates databases
      // and roles with it); the app would refuse it (README "Security"), so the tests say they mean it.
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL, ALLOW_SUPERUSER: '1' } : {}),
    },
  },
});
