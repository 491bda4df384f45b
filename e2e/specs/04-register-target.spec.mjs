// Register targets through the UI, with the limited team-a token and with
// the admin kubeconfig, test their connections, then delete them.
import { readFileSync } from 'node:fs';
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';

const {
  KUBEDEPLOY_KUBECONFIG,
  KUBEDEPLOY_LIMITED_TOKEN_FILE,
  KUBEDEPLOY_API_SERVER,
  KUBEDEPLOY_CA_FILE,
} = process.env;

/**
 * Registers a target through the dialog (`fill` fills in its credentials),
 * runs its connection test, then deletes it after typing its name.
 */
async function registerTestAndDelete({ page, step, api }, name, fill) {
  try {
    await step('open the register dialog', async () => {
      await page.goto('/deployments/targets');
      await page.getByRole('button', { name: 'Register target' }).click();
    });
    // No screenshot: a pasted kubeconfig is shown in clear text (tokens are
    // password fields), and artifacts must not hold a credential.
    await step(
      'fill in the target',
      async () => {
        const dialog = page.getByRole('dialog');
        await dialog.getByTestId('target-name').fill(name);
        await fill(dialog);
        await dialog.getByTestId('allowed-namespaces').fill('team-a');
      },
      { screenshot: false },
    );
    await step('register it', async () => {
      await page
        .getByRole('dialog')
        .getByRole('button', { name: 'Register' })
        .click();
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
      await visible(
        page.getByRole('button', { name: `Test connection of ${name}` }),
      );
    });
    await step('run the connection test', async () => {
      await page
        .getByRole('button', { name: `Test connection of ${name}` })
        .click();
      const result = page.getByTestId('connection-test-result');
      await hasText(result, /Reachable\s*yes/);
      await hasText(
        result,
        process.env.KUBEDEPLOY_KUBERNETES_VERSION ?? /v\d+\.\d+/,
      );
      await hasText(result, /\d+ ms/);
      await visible(result.getByText('RBAC in the allowed namespaces'));
      await hasText(result, 'team-a');
    });
    await step('delete it after typing its name', async () => {
      await page
        .getByRole('dialog')
        .getByRole('button', { name: 'Close' })
        .click();
      await page.getByRole('button', { name: `Delete ${name}` }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Confirmation').fill(name);
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('button', { name: `Test connection of ${name}` })
        .waitFor({ state: 'detached' });
    });
  } finally {
    // Leave nothing behind if a step failed midway.
    await api.call('DELETE', `/deployments/targets/${name}`).catch(() => {});
  }
}

test('a token target registered in the UI passes its connection test', async context => {
  await registerTestAndDelete(context, uniqueName('team-a'), async dialog => {
    await dialog.getByRole('radio', { name: 'Token', exact: true }).check();
    // Typed into a password field: screenshots show dots only.
    await dialog
      .getByTestId('token')
      .fill(readFileSync(KUBEDEPLOY_LIMITED_TOKEN_FILE, 'utf8').trim());
    await dialog.getByTestId('api-server-url').fill(KUBEDEPLOY_API_SERVER);
    await dialog
      .getByTestId('ca-data')
      .fill(readFileSync(KUBEDEPLOY_CA_FILE, 'utf8'));
  });
});

test('an admin kubeconfig target registered in the UI passes its connection test', async context => {
  await registerTestAndDelete(context, uniqueName('admin'), async dialog => {
    await dialog
      .getByRole('radio', { name: 'Kubeconfig', exact: true })
      .check();
    // The API server and CA come from the kubeconfig itself.
    await dialog
      .getByTestId('kubeconfig')
      .fill(readFileSync(KUBEDEPLOY_KUBECONFIG, 'utf8'));
  });
});
