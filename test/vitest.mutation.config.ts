import path from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:mutation` (Stryker) runs only the unit tier: the mutated code is pure, and the
// integration tier's PostgreSQL would make each of the thousands of runs take seconds.
const root = path.resolve(import.meta.dirname, '..');
export default defineConfig({
  resolve: { alias: { '@': root } },
  test: {
    root,
    include: ['**/*.unit.spec.ts'],
    exclude: ['node_modules/**', '.next/**', 'test/red/**', '.stryker-tmp/**'],
    environment: 'node',
  },
});
