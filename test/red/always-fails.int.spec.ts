// Run only by test/exit-status-guard.ts (vitest.config.ts excludes test/red/ otherwise): proves
// that a failing integration test makes the tier exit non-zero, with the embedded PostgreSQL of
// test/global-setup.ts started (its exit hook once turned this status into 0).
import { expect, it } from 'vitest';

it('fails on purpose', () => {
  expect(1).toBe(2);
});
