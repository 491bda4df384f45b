// The seeded /deployments page: keyring unlocked, both seeded targets, and a
// passing self-test.
import { test } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';

test('the keyring is unlocked and the self-test passes', async ({
  page,
  step,
}) => {
  await step('open /deployments: it lands on Operations', async () => {
    await page.goto('/deployments');
    await page.waitForURL(/\/deployments\/operations$/);
  });
  await step('open the keyring tab', async () => {
    await page.getByRole('tab', { name: 'Keyring' }).click();
    await page.waitForURL(/\/deployments\/keyring$/);
    await hasText(page.getByTestId('keyring-state'), 'unlocked');
    await visible(page.getByText('OpenPGP RSA-4096'));
  });
  await step('no sealed-keyring banner', async () => {
    const sealed = page.getByText(/keyring is sealed/);
    if (await sealed.count()) throw new Error('the status banner says sealed');
  });
  await step('run the self-test', async () => {
    await page.getByRole('button', { name: 'Run self-test' }).click();
    const result = page.getByTestId('self-test-result');
    await hasText(result, /Self-test passed in [\d.]+ ms/);
    await visible(result.getByText('Self-test steps'));
  });
});

test('both seeded targets are listed with fingerprints only', async ({
  page,
  step,
}) => {
  await step('open the targets tab', async () => {
    await page.goto('/deployments');
    await page.getByRole('tab', { name: 'Targets' }).click();
    await page.waitForURL(/\/deployments\/targets$/);
  });
  await step('local-admin and local-team-a are listed', async () => {
    for (const name of ['local-admin', 'local-team-a']) {
      await visible(
        page.getByRole('button', { name: `Test connection of ${name}` }),
      );
    }
    await visible(page.getByText(/hmac-sha256:/).first());
  });
});
