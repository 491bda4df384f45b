// Export a keyring backup, then verify the downloaded file in the UI.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from '../lib/harness.mjs';
import { hasText } from '../lib/expect.mjs';

test('a backup exported from the UI verifies as matching the keyring', async ({
  page,
  step,
}) => {
  // A fresh passphrase per run; it is typed into the page, never printed.
  const passphrase = `E2e-${randomBytes(12).toString('base64url')}-Backup`;
  // The backup holds the keyring key: keep it out of test-results.
  const dir = mkdtempSync(join(tmpdir(), 'kubedeploy-e2e-'));
  try {
    let fingerprint = '';
    await step('open the keyring tab', async () => {
      await page.goto('/deployments/keyring');
      await hasText(page.getByTestId('keyring-state'), 'unlocked');
      fingerprint = (
        await page
          .getByText(/^[0-9a-f]{40}$/)
          .first()
          .textContent()
      ).trim();
    });

    const file = join(dir, 'backup.kbk');
    await step('export a backup with its own passphrase', async () => {
      await page.getByRole('button', { name: 'Export backup' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('passphrase').fill(passphrase);
      await dialog.getByTestId('passphrase-repeat').fill(passphrase);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        dialog.getByRole('button', { name: 'Export' }).click(),
      ]);
      if (download.suggestedFilename() !== `${fingerprint}.kbk`) {
        throw new Error(
          `downloaded ${download.suggestedFilename()}, expected ${fingerprint}.kbk`,
        );
      }
      await download.saveAs(file);
      await dialog.waitFor({ state: 'hidden' });
    });

    await step('upload the file and verify it', async () => {
      await page.getByTestId('backup-file').setInputFiles(file);
      await page.getByTestId('backup-passphrase').fill(passphrase);
      await page.getByRole('button', { name: 'Verify backup' }).click();
      const verification = page.getByTestId('backup-verification');
      await hasText(verification, 'The backup matches the current keyring.');
      await hasText(verification, fingerprint);
    });

    await step('a wrong passphrase is refused', async () => {
      await page.getByTestId('backup-passphrase').fill(`${passphrase}-wrong`);
      await page.getByRole('button', { name: 'Verify backup' }).click();
      await hasText(page.getByRole('alert'), /Verification failed/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
