// Knowing where you are (issue 13): the apply confirmation on a production
// target (the dry-run's summary, the release name typed), the sync state
// beside health after an apply and after `helm rollback` by hand, the plan
// kept across the entity's tabs, the Overview card and the operations
// drawer.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';
import {
  details,
  draftHelloPlan,
  OPERATION_TIMEOUT,
  planStatus,
  registerTeamATarget,
  run,
  waitIdle,
} from '../lib/plans.mjs';

const ENTITY_PAGE = '/catalog/default/component/payments-api';

/** helm as the cluster admin, with private HELM_* directories. */
async function helmByHand(args) {
  const home = mkdtempSync(join(tmpdir(), 'e2e-helm-'));
  try {
    await promisify(execFile)('helm', args, {
      timeout: 180_000,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_DATA_HOME: join(home, 'data'),
        KUBECONFIG: process.env.KUBEDEPLOY_KUBECONFIG,
      },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Runs an operation through the API and waits for it to succeed. */
async function operate(api, planId, kind) {
  const started = await api.call(
    'POST',
    `/deployments/plans/${planId}/${kind}`,
    {},
  );
  if (started.status !== 202) {
    throw new Error(
      `${kind} did not start: ${started.status} ${started.body?.error?.message}`,
    );
  }
  const deadline = Date.now() + OPERATION_TIMEOUT;
  while (Date.now() < deadline) {
    const operation = await api.call(
      'GET',
      `/deployments/operations/${started.body.id}`,
    );
    if (operation.body.status !== 'running') {
      if (operation.body.status !== 'succeeded') {
        throw new Error(
          `${kind} ${operation.body.status}: ${operation.body.error}`,
        );
      }
      return operation.body;
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
  throw new Error(`${kind} did not finish`);
}

test(
  'sync state after a rollback by hand, the apply confirmation on production, the plan across tabs and the operations drawer',
  async ({ page, step, api }) => {
    const target = uniqueName('prod');
    const release = uniqueName('hello');
    let planId;
    let targetRegistered = false;
    try {
      await step(
        'the New plan dialog: each label sits above its choice',
        async () => {
          await page.goto(`${ENTITY_PAGE}/deployments`);
          await page.getByRole('button', { name: 'New plan' }).click();
          const dialog = page.getByRole('dialog');
          await visible(dialog.getByTestId('plan-chart'));
          await visible(dialog.getByTestId('plan-target'));
        },
      );
      await step(
        'close the dialog; the Profiles filter label too',
        async () => {
          await page
            .getByRole('dialog')
            .getByRole('button', { name: 'Cancel' })
            .click();
          await page.goto('/deployments/profiles');
          await visible(page.getByTestId('profiles-chart'));
        },
      );

      await step('set up a plan on a production target', async () => {
        await registerTeamATarget(api, target, { production: true });
        targetRegistered = true;
        planId = await draftHelloPlan(api, { target, releaseName: release });
      });

      await step(
        'dry-run and preflight it on the Deployments tab',
        async () => {
          await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          await hasText(details(page), `Plan ${release}`);
          await hasText(page.getByTestId('release-sync'), 'not installed');
          await run(page, 'Dry-run');
          await planStatus(page, 'dry-run passed');
          await run(page, 'Preflight');
          await planStatus(page, 'preflight passed');
        },
      );

      await step(
        "apply asks first: the dry-run's summary, and the release name typed on production",
        async () => {
          await run(page, 'Apply', { confirm: false });
          const dialog = page.getByRole('dialog');
          await hasText(dialog.getByTestId('apply-summary'), /\d+ added/);
          await hasText(dialog, `${target} is a production target`);
          await visible(dialog.getByTestId('apply-diff-link'));
          const confirm = dialog.getByRole('button', {
            name: 'Apply',
            exact: true,
          });
          if (await confirm.isEnabled()) {
            throw new Error(
              'Apply is enabled before the release name is typed',
            );
          }
          await dialog.getByLabel('Confirmation').fill(release);
        },
      );

      await step('the release is in sync after the apply', async () => {
        await page
          .getByRole('dialog')
          .getByRole('button', { name: 'Apply', exact: true })
          .click();
        await planStatus(page, 'deployed');
        await hasText(page.getByTestId('release-sync'), 'in sync', {
          timeout: 60_000,
        });
        await hasText(page.getByTestId('release-health'), /healthy/, {
          timeout: 60_000,
        });
      });

      await step('a second revision through the portal', async () => {
        const plan = await api.call('GET', `/deployments/plans/${planId}`);
        const edited = await api.call('PUT', `/deployments/plans/${planId}`, {
          options: { ...plan.body.options, timeoutSeconds: 240 },
          expectedRevision: plan.body.revision,
        });
        if (edited.status !== 200) throw new Error('the edit failed');
        await operate(api, planId, 'dry-run');
        await operate(api, planId, 'preflight');
        await operate(api, planId, 'apply');
        await page.reload();
        await hasText(page.getByTestId('release-sync'), 'in sync', {
          timeout: 60_000,
        });
      });

      await step(
        '`helm rollback` by hand: the release differs, and says how',
        async () => {
          await helmByHand([
            'rollback',
            release,
            '1',
            '-n',
            'team-a',
            '--wait',
          ]);
          await page.reload();
          await hasText(page.getByTestId('release-sync'), 'differs', {
            timeout: 60_000,
          });
          await hasText(
            page.getByTestId('sync-differences'),
            'revision 3 was not made by the portal (helm: "Rollback to 1")',
          );
          // The plan's own state is unchanged: it is the release that moved.
          await planStatus(page, 'deployed');
        },
      );

      await step('the Dry-run tab opens on the same plan', async () => {
        // The entity page's tab links drop the query; the choice is kept
        // for the browser tab's session and put back in the address.
        await page.goto(`${ENTITY_PAGE}/dry-run`);
        await page.waitForURL(new RegExp(`/dry-run\\?plan=${planId}$`));
        await hasText(page.getByTestId('plan-picker'), release);
      });

      await step('the Overview card shows the release differing', async () => {
        await page.goto(ENTITY_PAGE);
        const row = page.getByTestId(`deployments-card-row-${release}`);
        await hasText(row.getByTestId('release-sync'), 'differs', {
          timeout: 60_000,
        });
        await hasText(row, 'outside the portal');
        await row.scrollIntoViewIfNeeded();
      });

      await step(
        'operation details open in a drawer beside the table',
        async () => {
          await page.goto('/deployments/operations');
          const row = page
            .getByRole('row')
            .filter({ hasText: release })
            .first();
          await row.getByText('Apply', { exact: true }).click();
          const drawer = page.getByTestId('operation-drawer');
          await hasText(drawer, `Apply of ${release}`);
          await hasText(
            drawer.getByTestId('operation-progress'),
            /Helm revision/,
          );
          await visible(drawer.getByRole('link', { name: 'Open the plan' }));
        },
      );

      await step(
        'the audit trail: readable rows, details on demand',
        async () => {
          await page.goto('/deployments/audit');
          const row = page
            .getByRole('row')
            .filter({ hasText: 'Apply finished' })
            .filter({ hasText: release })
            .first();
          await visible(row);
          await row.getByRole('button', { name: /^Details/ }).click();
          await visible(page.getByTestId('audit-details').first());
        },
      );
    } finally {
      if (planId) {
        await waitIdle(api, planId);
        await api.call('POST', `/deployments/plans/${planId}/uninstall`, {
          confirmReleaseName: release,
        });
        await waitIdle(api, planId);
        await api.call('DELETE', `/deployments/plans/${planId}`);
      }
      if (targetRegistered) {
        await api.call('DELETE', `/deployments/targets/${target}`);
      }
    }
  },
  { timeout: 900_000 },
);
