// Run only by test/exit-status-guard.ts (vitest.config.ts excludes test/red/ otherwise): proves
// that a failing unit test makes the tier exit non-zero.
import { expect, it } from 'vitest';

it('fails on purpose', () => {
  expect(1).toBe(2);
});
