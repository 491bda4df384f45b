// Sealing the keyring raises the status banner everywhere; unlocking from
// the keyring tab clears it.
import { readFileSync } from 'node:fs';
import { test } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';

test('a sealed keyring shows the banner until it is unlocked', async ({
  page,
  step,
  api,
}) => {
  const passphrase = readFileSync(
    process.env.E2E_KEYRING_PASSPHRASE_FILE,
    'utf8',
  );
  try {
    await step('seal the keyring', async () => {
      await page.goto('/deployments/keyring');
      await page.getByRole('button', { name: 'Seal' }).click();
      await hasText(page.getByTestId('keyring-state'), 'sealed');
    });
    await step('the banner says sealed on the other tabs', async () => {
      await page.getByRole('tab', { name: 'Charts' }).click();
      await visible(page.getByText(/The deployments keyring is sealed/));
    });
    await step('follow the banner to the keyring and unlock', async () => {
      await page.getByRole('link', { name: 'Open the keyring' }).click();
      await page.waitForURL(/\/deployments\/keyring$/);
      await page.getByRole('button', { name: 'Unlock', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('passphrase').fill(passphrase);
      await dialog.getByRole('button', { name: 'Unlock' }).click();
      await hasText(page.getByTestId('keyring-state'), 'unlocked');
    });
    await step('the banner is gone', async () => {
      await page
        .getByText(/The deployments keyring is sealed/)
        .waitFor({ state: 'detached' });
      await visible(
        page.getByText(
          /All deployments healthy|needs attention|unreachable|failed|pending/,
        ),
      );
    });
  } finally {
    // Leave the keyring unlocked for whatever runs next.
    await api.call('POST', '/deployments/keyring/unlock', { passphrase });
  }
});
