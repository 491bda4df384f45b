// The whole deployment flow on the payments-api component, through the UI:
// a values profile for hello made with the form, a release plan, dry-run,
// preflight, apply, resources and history, the Dry-run and Logs tabs, a
// second revision, a rollback to revision 1 and the uninstall.
import { randomBytes } from 'node:crypto';
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';
import {
  details,
  operationFinished,
  planStatus,
  run,
  waitIdle,
} from '../lib/plans.mjs';

const ENTITY_REF = 'component:default/payments-api';
const ENTITY_PAGE = '/catalog/default/component/payments-api';

test(
  'a component is deployed from a values profile through dry-run, preflight and apply, rolled back and uninstalled',
  async ({ page, step, api }) => {
    const profileName = uniqueName('profile');
    const release = uniqueName('hello');
    let planId;
    let profileId;
    try {
      await step(
        'create a values profile for hello with the form',
        async () => {
          await page.goto('/deployments/profiles');
          await page.getByTestId('profiles-chart').selectOption({
            label: 'hello 0.1.0',
          });
          await page.getByRole('button', { name: 'New profile' }).click();
          const dialog = page.getByRole('dialog');
          await dialog.getByTestId('profile-name').fill(profileName);
          // Pre-filled from the chart's defaults.
          await visible(dialog.getByLabel('Greeting'));
          const greeting = dialog.getByLabel('Greeting');
          if ((await greeting.inputValue()) !== 'Hello from the portal') {
            throw new Error('the form was not pre-filled with the defaults');
          }
          await greeting.fill(`Hello from ${release}`);
          // A throwaway secret, typed into a password field (dots on screen).
          await dialog
            .getByLabel('API token')
            .fill(`tok-${randomBytes(9).toString('hex')}`);
        },
      );
      await step('review the change and save the profile', async () => {
        const dialog = page.getByRole('dialog');
        await dialog
          .getByRole('tab', { name: 'Changes from the chart defaults' })
          .click();
        await hasText(
          dialog.getByTestId('profile-changes'),
          `+greeting: Hello from ${release}`,
        );
        await hasText(
          dialog.getByTestId('profile-changes'),
          '(secret, new value)',
        );
        await dialog.getByRole('button', { name: 'Create profile' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await visible(page.getByText(profileName));
        const profiles = await api.call(
          'GET',
          '/deployments/profiles?limit=500',
        );
        profileId = profiles.body.items.find(p => p.name === profileName)?.id;
        if (!profileId) throw new Error('the profile was not stored');
      });

      await step('create a release plan on the Plan tab', async () => {
        await page.goto(`${ENTITY_PAGE}/deployments`);
        await page.getByRole('button', { name: 'New plan' }).click();
        const dialog = page.getByRole('dialog');
        await dialog.getByTestId('plan-chart').selectOption({
          label: 'hello 0.1.0',
        });
        await dialog.getByTestId('plan-target').selectOption('local-admin');
        // local-admin allows a glob (team-*): the namespace is typed.
        await dialog.getByTestId('plan-namespace').fill('team-a');
        await dialog.getByTestId('plan-release-name').fill(release);
        await dialog.getByTestId('plan-profile').selectOption({
          label: `${profileName} (revision 1)`,
        });
        await dialog.getByRole('button', { name: 'Create plan' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await hasText(details(page), `Plan ${release}`);
        await planStatus(page, 'draft');
        const plans = await api.call(
          'GET',
          `/deployments/plans?entityRef=${encodeURIComponent(ENTITY_REF)}`,
        );
        planId = plans.body.items.find(p => p.releaseName === release)?.id;
        if (!planId) throw new Error('the plan was not stored');
      });

      await step('dry-run it', async () => {
        await run(page, 'Dry-run');
        await operationFinished(page, 'succeeded');
        await hasText(page.getByTestId('operation-outcome'), /object\(s\)/);
        await planStatus(page, 'dry-run passed');
      });
      await step('preflight it', async () => {
        await run(page, 'Preflight');
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'preflight passed');
      });
      await step('apply it and follow the progress', async () => {
        await run(page, 'Apply');
        await visible(page.getByTestId('operation-progress'));
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'deployed');
      });
      await step('see the resources and the history', async () => {
        await hasText(page.getByTestId('plan-resources'), 'Deployment', {
          timeout: 60_000,
        });
        await hasText(page.getByTestId('plan-resources'), /Pods \([1-9]/);
        await visible(
          page.getByRole('button', { name: 'Roll back to revision 1' }),
        );
      });

      await step('open the Dry-run tab', async () => {
        await page.goto(`${ENTITY_PAGE}/dry-run?plan=${planId}`);
        const result = page.getByTestId('dry-run-result');
        await hasText(result, /\d+ object\(s\): \d+ added/);
        await hasText(page.getByTestId('inputs-hash'), /sha256:/);
        await result.getByRole('button', { name: /^Deployment / }).click();
        await visible(result.getByTestId('object-manifest'));
      });

      await step('open the Logs tab and see log lines', async () => {
        await page.goto(`${ENTITY_PAGE}/logs?plan=${planId}`);
        await hasText(page.getByTestId('logs-status'), /[1-9]\d* line\(s\)/, {
          timeout: 60_000,
        });
        await page.getByLabel('Follow').check();
        // The followed stream starts with the tail, read as it arrives.
        await hasText(
          page.getByTestId('logs-status'),
          /^Following · [1-9]\d* line\(s\)/,
          { timeout: 30_000 },
        );
      });

      await step('edit the plan: a second revision', async () => {
        await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
        await run(page, 'Edit plan');
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Timeout (seconds)').fill('240');
        await dialog.getByRole('button', { name: 'Save plan' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await hasText(details(page), 'Revision 2');
      });
      await step('dry-run, preflight and apply revision 2', async () => {
        await run(page, 'Dry-run');
        await planStatus(page, 'dry-run passed');
        await run(page, 'Preflight');
        await planStatus(page, 'preflight passed');
        await run(page, 'Apply');
        await planStatus(page, 'deployed');
        await visible(
          page.getByRole('button', { name: 'Roll back to revision 2' }),
        );
      });

      await step('roll back to revision 1', async () => {
        const rollback = page.getByRole('button', {
          name: 'Roll back to revision 1',
        });
        await rollback.click();
        const dialog = page.getByRole('dialog');
        await hasText(dialog, 'back to revision 1');
        await dialog.getByRole('button', { name: 'Roll back' }).click();
        await operationFinished(page, 'succeeded');
        await hasText(
          page.getByTestId('operation-outcome'),
          'now at Helm revision 3',
        );
        await hasText(page.getByTestId('plan-history'), /Rollback to 1/i, {
          timeout: 60_000,
        });
      });

      await step('find the operations on the operations page', async () => {
        await page.goto('/deployments/operations');
        const rows = page.getByRole('row').filter({ hasText: release });
        // Dry-run, preflight and apply twice, then the rollback.
        await hasText(rows.first(), 'Rollback');
        await hasText(rows.first(), 'succeeded');
        if ((await rows.count()) < 7) {
          throw new Error(`expected 7 operations of ${release}`);
        }
        // The kind's cell: the component cell is a link to the entity.
        await rows
          .filter({ hasText: 'Apply' })
          .first()
          .getByText('Apply', { exact: true })
          .click();
        // The details open in a drawer beside the table.
        await hasText(
          page
            .getByTestId('operation-drawer')
            .getByTestId('operation-progress'),
          /Helm revision/,
        );
      });

      await step('uninstall after typing the release name', async () => {
        await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
        await run(page, 'Uninstall');
        const dialog = page.getByRole('dialog');
        await dialog.getByLabel('Confirmation').fill(release);
        await dialog.getByRole('button', { name: 'Uninstall' }).click();
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'uninstalled');
      });
    } finally {
      // Leave nothing behind in the shared cluster if a step failed midway.
      if (planId) {
        const plan = await api.call('GET', `/deployments/plans/${planId}`);
        if (plan.status === 200 && plan.body.status !== 'uninstalled') {
          await waitIdle(api, planId);
          await api.call('POST', `/deployments/plans/${planId}/uninstall`, {
            confirmReleaseName: release,
          });
        }
        await waitIdle(api, planId);
        await api.call('DELETE', `/deployments/plans/${planId}`);
      }
      if (profileId) {
        await api.call('DELETE', `/deployments/profiles/${profileId}`);
      }
    }
  },
  { timeout: 900_000 },
);
