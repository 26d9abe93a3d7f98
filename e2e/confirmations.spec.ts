import { expect, test } from '@playwright/test';
import { createAccount, signInAsAdmin } from './accounts';

/*
 * On /admin, the actions that cannot be taken back ask first (disable, revoke, rebuild), and
 * every action says what it did, also when it took its own row away (a revoked token).
 */

const DORA = { name: 'Dora Disabled', email: 'dora.disabled@example.org', password: 'e2e dora password 1' };

test('disable, revoke and rebuild ask for confirmation, and each says what it did', async ({ page }) => {
  await signInAsAdmin(page);
  await createAccount(page, DORA, 'operator');

  // Disable: the first click only asks; cancel leaves the account as it was.
  await page.getByRole('button', { name: `Disable ${DORA.name}` }).click();
  const disable = page.getByRole('group', { name: `Disable ${DORA.name}? They are signed out at once.` });
  await expect(disable.getByRole('button', { name: 'Yes, disable' })).toBeFocused();
  await disable.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('button', { name: `Disable ${DORA.name}` })).toBeVisible();
  await page.getByRole('button', { name: `Disable ${DORA.name}` }).click();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: `${DORA.name} is disabled and signed out.` })).toBeVisible();
  await expect(page.getByRole('button', { name: `Enable ${DORA.name}` })).toBeVisible();

  // Revoke: the token's row goes away, the message stays.
  const create = page.getByRole('form', { name: 'Create an API token' });
  await create.getByLabel('Token name').fill('e2e-revoke-me');
  await create.getByRole('button', { name: 'Create token' }).click();
  await expect(create.getByTestId('new-token')).toBeVisible();
  await page.getByRole('button', { name: 'Revoke e2e-revoke-me' }).click();
  const revoke = page.getByRole('group', { name: /Revoke e2e-revoke-me\?/ });
  await revoke.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Token "e2e-revoke-me" revoked.' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Revoke e2e-revoke-me' })).toHaveCount(0);

  // Rebuild.
  const rebuild = page.getByRole('form', { name: 'Rebuild read models' });
  await rebuild.getByRole('button', { name: 'Rebuild read models' }).click();
  await rebuild.getByRole('button', { name: 'Yes, rebuild' }).click();
  await expect(rebuild.getByRole('status')).toContainText('Rebuild started.');
});
