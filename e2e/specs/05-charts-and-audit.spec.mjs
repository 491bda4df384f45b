// The seeded charts and the audit trail of what seeding did.
import { test } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';

test('the seeded charts are listed with their details', async ({
  page,
  step,
}) => {
  await step('open the charts tab', async () => {
    await page.goto('/deployments/charts');
    for (const chart of ['hello', 'broken', 'escape']) {
      await visible(
        page.getByRole('button', { name: `Details of ${chart} 0.1.0` }),
      );
    }
  });
  await step('open the details of hello', async () => {
    await page.getByRole('button', { name: 'Details of hello 0.1.0' }).click();
    const dialog = page.getByRole('dialog');
    await hasText(dialog, /sha256:[0-9a-f]{64}/);
    await dialog.getByRole('tab', { name: 'Values schema' }).click();
    await hasText(dialog, '"properties"');
  });
});

test('the audit trail shows the seeding, filterable by event', async ({
  page,
  step,
}) => {
  await step('open the audit tab', async () => {
    await page.goto('/deployments/audit');
    await visible(page.getByText('target-create').first());
  });
  await step('filter by the keyring bootstrap', async () => {
    await page.getByLabel('Event').fill('keyring-bootstrap');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await visible(page.getByText('keyring-bootstrap').first());
    await hasText(page.getByRole('table'), 'succeeded');
    if (await page.getByText('target-create').count()) {
      throw new Error('the event filter did not apply');
    }
  });
});
