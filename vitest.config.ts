import path from 'node:path';
import { defineConfig } from 'vitest/config';

const alias = { '@': path.resolve(import.meta.dirname) };
// test/red/ holds specs that fail on purpose; only test/exit-status-guard.ts runs them.
const exclude = ['node_modules/**', '.next/**', ...(process.env.RED_CHECK === '1' ? [] : ['test/red/**'])];

// Two tiers, told apart by file name: `*.unit.spec.ts` (pure, no I/O) and `*.int.spec.ts`
// (a real PostgreSQL, started by test/global-setup.ts unless DATABASE_URL is given).
export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['**/*.unit.spec.ts'],
          exclude,
          environment: 'node',
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'int',
          include: ['**/*.int.spec.ts'],
          exclude,
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          // Several specs start CLI and worker processes (`npx tsx …`); on a loaded two-core CI
          // runner those took past 30 s and failed although correct. Waits inside tests keep
          // their own shorter bounds, so a real hang still fails with a message naming it.
          testTimeout: 90_000,
          hookTimeout: 60_000,
          // Two cores: each file gets its own database, so files may run side by side.
          maxWorkers: 2,
        },
      },
    ],
  },
});
