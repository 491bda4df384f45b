// What the first user of a new portal does, in the browser, before anything
// else exists: bootstrap the keyring and register the first chart. scripts/e2e
// runs this against the empty portal, then seeds the rest through the API
// (which finds the keyring unlocked and hello registered).
import { readFileSync } from 'node:fs';
import { test } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';

const {
  E2E_KEYRING_PASSPHRASE_FILE,
  KUBEDEPLOY_REGISTRY,
  KUBEDEPLOY_CHART_DIGESTS,
} = process.env;

/** The manifest digest `helm push` printed for a chart in the open registry. */
function pushedDigest(chart) {
  for (const line of readFileSync(KUBEDEPLOY_CHART_DIGESTS, 'utf8').split(
    '\n',
  )) {
    const [registry, name, digest] = line.split('\t');
    if (registry === KUBEDEPLOY_REGISTRY && name === chart) return digest;
  }
  throw new Error(`no pushed digest recorded for ${chart}`);
}

test('the first user bootstraps the keyring and runs its self-test', async ({
  page,
  step,
}) => {
  const passphrase = readFileSync(E2E_KEYRING_PASSPHRASE_FILE, 'utf8');
  await step('open the empty deployments page', async () => {
    await page.goto('/deployments/keyring');
    await hasText(page.getByTestId('keyring-state'), 'uninitialized');
    await visible(page.getByText(/No keyring yet/));
    // The banner asks for a bootstrap; nothing is "sealed" yet.
    await visible(page.getByText(/Deployments are not set up yet/));
  });
  await step('bootstrap with a confirmed passphrase', async () => {
    await page.getByRole('button', { name: 'Bootstrap keyring' }).click();
    const dialog = page.getByRole('dialog');
    // Password fields: the screenshot shows dots only.
    await dialog.getByTestId('passphrase').fill(passphrase);
    await dialog.getByTestId('passphrase-repeat').fill(passphrase);
    await dialog.getByRole('button', { name: 'Bootstrap' }).click();
    // RSA-4096 key generation and Argon2id take a few seconds.
    await hasText(page.getByTestId('keyring-state'), 'unlocked', {
      timeout: 120_000,
    });
    await visible(page.getByText('OpenPGP RSA-4096'));
  });
  await step('run the self-test', async () => {
    await page.getByRole('button', { name: 'Run self-test' }).click();
    await hasText(
      page.getByTestId('self-test-result'),
      /Self-test passed in [\d.]+ ms/,
    );
  });
});

test('hello is registered from the OCI registry, pinned to the digest helm pushed', async ({
  page,
  step,
}) => {
  await step('open the register dialog and list the versions', async () => {
    await page.goto('/deployments/charts');
    // The header's button; an empty catalog shows a second one.
    await page.getByRole('button', { name: 'Register chart' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog
      .getByTestId('chart-reference')
      .fill(`oci://${KUBEDEPLOY_REGISTRY}/charts/hello`);
    await dialog.getByRole('button', { name: 'List versions' }).click();
    await dialog.getByRole('button', { name: '0.1.0' }).click();
  });
  await step('register 0.1.0', async () => {
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Register', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await visible(page.getByText(/Registered hello 0\.1\.0/));
  });
  await step('see the pinned digest in its details', async () => {
    await page.getByRole('button', { name: 'Details of hello 0.1.0' }).click();
    await hasText(page.getByRole('dialog'), pushedDigest('hello'));
  });
});
