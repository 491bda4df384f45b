// Change control on a production target, through the UI: the target marked
// production with approval required in its dialog, a plan on it dry-run and
// preflighted, an approval requested with the diff it covers, apply held
// while the request is pending and the requester unable to approve it; then
// alice (a second local user, platform group) approves in her own browser
// and the requester's apply runs, using the approval up. The second test
// sets a freeze in the target dialog and applies during it with an
// emergency override.
import { test, uniqueName } from '../lib/harness.mjs';
import { hasText, visible } from '../lib/expect.mjs';
import {
  details,
  draftHelloPlan,
  operationFinished,
  planAction,
  planStatus,
  registerTeamATarget,
  run,
  waitIdle,
} from '../lib/plans.mjs';

const ENTITY_PAGE = '/catalog/default/component/payments-api';
const GUEST = 'user:default/guest';

/** Opens the target's edit dialog on the Targets page. */
async function editTarget(page, name) {
  await page.goto('/deployments/targets');
  await page.getByRole('button', { name: `Edit ${name}` }).click();
  return page.getByRole('dialog');
}

/** Dry-runs and preflights the plan shown, through its buttons. */
async function dryRunAndPreflight(page) {
  await run(page, 'Dry-run');
  await operationFinished(page, 'succeeded');
  await planStatus(page, 'dry-run passed');
  await run(page, 'Preflight');
  await operationFinished(page, 'succeeded');
  await planStatus(page, 'preflight passed');
}

/** Deletes what a test made, whatever state it was left in. */
async function cleanUp(api, { planId, release, target, overrideReason }) {
  if (target) {
    // Uninstalling must not wait for an approval or a window.
    await api.call('PATCH', `/deployments/targets/${target}`, {
      requireApproval: false,
      changeWindows: null,
    });
  }
  if (planId) {
    const plan = await api.call('GET', `/deployments/plans/${planId}`);
    if (
      plan.status === 200 &&
      ['deployed', 'failed', 'rolled-back', 'interrupted'].includes(
        plan.body.status,
      )
    ) {
      await waitIdle(api, planId);
      await api.call('POST', `/deployments/plans/${planId}/uninstall`, {
        confirmReleaseName: release,
        ...(overrideReason ? { overrideReason } : {}),
      });
    }
    await waitIdle(api, planId);
    await api.call('DELETE', `/deployments/plans/${planId}`);
  }
  if (target) await api.call('DELETE', `/deployments/targets/${target}`);
}

test(
  'a production apply waits for another user to approve the dry-run it was requested on',
  async ({ page, step, api, as }) => {
    const target = uniqueName('prod');
    const release = uniqueName('hello');
    let planId;
    let targetRegistered = false;
    try {
      await step('register a target and draft a plan on it', async () => {
        await registerTeamATarget(api, target);
        targetRegistered = true;
        planId = await draftHelloPlan(api, { target, releaseName: release });
      });

      await step(
        'mark the target production and require approval',
        async () => {
          const dialog = await editTarget(page, target);
          await dialog.getByRole('checkbox', { name: 'Production' }).check();
          await dialog
            .getByRole('checkbox', { name: 'Require approval' })
            .check();
          await dialog
            .getByTestId('change-control-fields')
            .scrollIntoViewIfNeeded();
        },
      );
      await step('save the target: the list marks it production', async () => {
        const dialog = page.getByRole('dialog');
        await dialog.getByRole('button', { name: 'Save' }).click();
        await dialog.waitFor({ state: 'hidden' });
        const row = page.getByRole('row').filter({ hasText: target });
        await visible(row.getByTestId('production-chip'));
        await hasText(row, 'approval required');
      });

      await step(
        'open the plan: production, open window, no approvals yet',
        async () => {
          await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          await hasText(details(page), `Plan ${release}`);
          const control = page.getByTestId('change-control');
          await visible(page.getByTestId('production-marker'));
          await hasText(
            control.getByTestId('change-window-status'),
            'Open now',
          );
          await hasText(
            page.getByTestId('approvals'),
            'No approval requests yet',
          );
        },
      );

      await step('dry-run and preflight it', () => dryRunAndPreflight(page));

      await step('apply says it needs an approval', async () => {
        await hasText(
          page.getByTestId('apply-blocked-reason'),
          "requires approval: apply needs another user's approval first",
        );
        if (await planAction(page, 'Apply').isEnabled()) {
          throw new Error('Apply is enabled without an approval');
        }
      });

      await step('fill in an approval request with a comment', async () => {
        await page
          .getByTestId('approvals')
          .getByRole('button', { name: 'Request approval' })
          .click();
        const dialog = page.getByRole('dialog');
        await hasText(dialog, 'The approver sees and approves the objects');
        await dialog
          .getByTestId('approval-comment')
          .fill(`Ship ${release} to production`);
      });
      await step('request it: it is pending', async () => {
        const dialog = page.getByRole('dialog');
        await dialog.getByRole('button', { name: 'Request approval' }).click();
        await dialog.waitFor({ state: 'hidden' });
        const approvals = page.getByTestId('approvals');
        await hasText(approvals.getByTestId('approval-status'), 'pending');
        await hasText(approvals, GUEST);
        await hasText(approvals, `Ship ${release} to production`);
      });

      await step('look at the diff the approval covers', async () => {
        await page
          .getByRole('button', {
            name: `Show the diff of apply requested by ${GUEST}`,
          })
          .click();
        const diff = page.getByTestId('approved-diff');
        await hasText(diff, /object\(s\)/);
        await hasText(diff, 'Deployment');
      });

      await step('the requester cannot approve their own request', async () => {
        await page
          .getByRole('dialog')
          .getByRole('button', { name: 'Close' })
          .click();
        await page.getByRole('dialog').waitFor({ state: 'hidden' });
        const approve = page.getByRole('button', {
          name: `Approve apply requested by ${GUEST}`,
        });
        await visible(approve);
        if (await approve.isEnabled()) {
          throw new Error('the requester may approve their own request');
        }
        await approve.locator('..').hover();
        await visible(page.getByText(/another user has to approve or reject/));
        // Nor through the API: four eyes whatever the permission policy says.
        const list = await api.call(
          'GET',
          `/deployments/plans/${planId}/approvals`,
        );
        const pending = list.body.items.find(a => a.status === 'pending');
        const decided = await api.call(
          'POST',
          `/deployments/plans/${planId}/approvals/${pending.id}/decision`,
          { decision: 'approve' },
        );
        if (decided.status !== 403) {
          throw new Error(
            `a self-approval answered ${decided.status}, not 403`,
          );
        }
      });

      await step('apply waits for the pending request', async () => {
        await hasText(
          page.getByTestId('apply-blocked-reason'),
          'waits for another user to approve the pending request',
        );
        if (await planAction(page, 'Apply').isEnabled()) {
          throw new Error('Apply is enabled with the request pending');
        }
        // The backend holds it too.
        const applied = await api.call(
          'POST',
          `/deployments/plans/${planId}/apply`,
          {},
        );
        if (applied.status !== 403) {
          throw new Error(`apply answered ${applied.status}, not 403`);
        }
      });

      const alice = await as('local-alice');
      await alice.step(
        'alice opens the plan: the request waits for her',
        async () => {
          await alice.page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
          const approvals = alice.page.getByTestId('approvals');
          await hasText(approvals.getByTestId('approval-status'), 'pending');
          await hasText(approvals, `Ship ${release} to production`);
        },
      );
      await alice.step('alice approves it with a comment', async () => {
        await alice.page
          .getByRole('button', { name: `Approve apply requested by ${GUEST}` })
          .click();
        const dialog = alice.page.getByRole('dialog');
        await dialog
          .getByTestId('decision-comment')
          .fill('Diff checked: one Deployment, Service and ConfigMap');
        await dialog
          .getByRole('button', { name: 'Approve', exact: true })
          .click();
        await dialog.waitFor({ state: 'hidden' });
        await hasText(
          alice.page.getByTestId('approvals').getByTestId('approval-status'),
          'approved',
        );
      });

      await step('the requester applies the approved plan', async () => {
        await page.reload();
        await hasText(details(page), `Plan ${release}`);
        await run(page, 'Apply');
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'deployed');
      });
      await step('the apply used the approval up', async () => {
        await hasText(
          page.getByTestId('approvals').getByTestId('approval-status'),
          'used',
        );
        const list = await api.call(
          'GET',
          `/deployments/plans/${planId}/approvals`,
        );
        const used = list.body.items.find(a => a.status === 'used');
        if (
          used?.decidedBy !== 'user:default/alice' ||
          !used.usedByOperationId
        ) {
          throw new Error(
            `no approval used by the apply: ${JSON.stringify(
              list.body.items.map(a => a.status),
            )}`,
          );
        }
      });
    } finally {
      await cleanUp(api, {
        planId,
        release,
        target: targetRegistered ? target : undefined,
      });
    }
  },
  { timeout: 600_000 },
);

test(
  'an emergency override applies during a freeze set in the target dialog, with its reason',
  async ({ page, step, api }) => {
    const target = uniqueName('frozen');
    const release = uniqueName('hello');
    const freezeReason = `E2E freeze ${release}`;
    const overrideReason = `E2E hotfix for ${release}`;
    let planId;
    let targetRegistered = false;
    try {
      await step('register a target and draft a plan on it', async () => {
        await registerTeamATarget(api, target);
        targetRegistered = true;
        planId = await draftHelloPlan(api, { target, releaseName: release });
      });

      await step(
        'fill in a freeze from now on in the target dialog',
        async () => {
          const dialog = await editTarget(page, target);
          await dialog
            .getByRole('checkbox', { name: 'Limit changes to change windows' })
            .check();
          await dialog.getByTestId('change-window-time-zone').fill('UTC');
          await dialog.getByRole('button', { name: 'Add freeze' }).click();
          const now = Date.now();
          await dialog
            .getByTestId('freeze-start')
            .fill(new Date(now - 10 * 60_000).toISOString());
          await dialog
            .getByTestId('freeze-end')
            .fill(new Date(now + 3 * 60 * 60_000).toISOString());
          await dialog.getByTestId('freeze-reason').fill(freezeReason);
        },
      );
      await step('save the target with its freeze', async () => {
        const dialog = page.getByRole('dialog');
        await dialog.getByRole('button', { name: 'Save' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await hasText(
          page.getByRole('row').filter({ hasText: target }),
          'change windows',
        );
      });

      await step('the plan shows the window closed by the freeze', async () => {
        await page.goto(`${ENTITY_PAGE}/deployments?plan=${planId}`);
        await hasText(details(page), `Plan ${release}`);
        const status = page.getByTestId('change-window-status');
        await hasText(status, 'Closed now');
        await hasText(status, freezeReason);
      });

      await step('dry-run and preflight it', () => dryRunAndPreflight(page));

      await step('apply says the window is closed', async () => {
        await hasText(
          page.getByTestId('apply-blocked-reason'),
          `The change window is closed (${freezeReason})`,
        );
        if (await planAction(page, 'Apply').isEnabled()) {
          throw new Error('Apply is enabled during a freeze');
        }
      });

      await step('give the override a reason', async () => {
        await run(page, 'Emergency override');
        const dialog = page.getByRole('dialog');
        await hasText(dialog, freezeReason);
        await dialog.getByTestId('override-reason').fill(overrideReason);
        const start = dialog.getByRole('button', {
          name: 'Override and start',
        });
        await start.waitFor();
        if (!(await start.isEnabled())) {
          throw new Error('the override stays disabled with a reason');
        }
      });

      await step('apply with the override and follow it', async () => {
        await page
          .getByRole('dialog')
          .getByRole('button', { name: 'Override and start' })
          .click();
        await page.getByRole('dialog').waitFor({ state: 'hidden' });
        await operationFinished(page, 'succeeded');
        await planStatus(page, 'deployed');
      });

      await step('the audit trail holds the override reason', async () => {
        const audit = await api.call(
          'GET',
          `/deployments/audit?eventId=change-window-override&subject=${encodeURIComponent(
            planId,
          )}&limit=10`,
        );
        const entry = audit.body?.items?.find(
          e => e.meta?.reason === overrideReason && e.meta?.kind === 'apply',
        );
        if (!entry) {
          throw new Error(
            `no change-window-override audit entry of the plan with the reason (${audit.status})`,
          );
        }
        // And the audit page shows it to people.
        await page.goto('/deployments/audit');
        await visible(page.getByText('change-window-override').first());
      });
    } finally {
      await cleanUp(api, {
        planId,
        release,
        target: targetRegistered ? target : undefined,
        overrideReason: `E2E clean-up of ${release}`,
      });
    }
  },
  { timeout: 600_000 },
);
