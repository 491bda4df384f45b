import {
  ReleasePlan,
  ReleaseSyncState,
} from '@kubedeploy/plugin-deployments-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  draftPlan,
  fakeDeploymentsApi,
  fakeOperation,
  helloProfile,
  passedDryRunResult,
  PAYMENTS_API_REF,
  teamATarget,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanTab } from './PlanTab';

const gate = (at: string, fields: Partial<ReleasePlan['lastDryRun']> = {}) => ({
  operationId: 'op-dry-run',
  passed: true,
  inputsHash: 'sha256:a',
  planRevision: 1,
  at,
  ...fields,
});

const readyPlan: ReleasePlan = {
  ...draftPlan,
  status: 'preflight-passed',
  lastDryRun: gate('2026-11-23T12:00:00Z'),
  lastPreflight: gate('2026-11-23T12:01:00Z', { operationId: 'op-preflight' }),
  // The profile changed before the gates ran.
  statusChangedAt: '2026-11-23T12:01:00Z',
};

const differs: ReleaseSyncState = {
  status: 'differs',
  summary:
    'The release differs from the plan: revision 3 was not made by the portal (helm: "Rollback to 1")',
  differences: [
    {
      field: 'revision',
      message: 'revision 3 was not made by the portal (helm: "Rollback to 1")',
    },
  ],
  live: {
    revision: 3,
    status: 'deployed',
    chart: 'hello-0.1.0',
    updated: '2026-11-23T12:10:00Z',
    description: 'Rollback to 1',
    madeByPortal: false,
  },
  checkedAt: '2026-11-23T12:11:00Z',
};

const inSync: ReleaseSyncState = {
  status: 'in-sync',
  summary:
    'Revision 2 is deployed from plan revision 1: chart, values and plan revision match',
  differences: [],
  live: {
    revision: 2,
    status: 'deployed',
    chart: 'hello-0.1.0',
    updated: '2026-11-23T12:05:00Z',
    description: 'Upgrade complete',
    madeByPortal: true,
    actor: 'user:default/guest',
    planRevision: 1,
  },
  checkedAt: '2026-11-23T12:11:00Z',
};

async function renderPlan(
  plan: ReleasePlan,
  overrides: Parameters<typeof fakeDeploymentsApi>[0] = {},
) {
  const api = fakeDeploymentsApi({
    listPlans: async () => ({ items: [plan], totalCount: 1 }),
    getOperation: async () =>
      fakeOperation({ id: 'op-dry-run', result: passedDryRunResult }),
    ...overrides,
  });
  const rendered = await renderDeployments(
    <PlanTab entityRef={PAYMENTS_API_REF} />,
    { api },
  );
  return { api, ...rendered };
}

describe('Plan tab orientation', () => {
  describe('the release state beside the plan state', () => {
    it('says the release differs, and how, after a rollback outside the portal', async () => {
      await renderPlan(
        { ...readyPlan, status: 'deployed' },
        { getPlanSync: async () => differs },
      );
      const state = await screen.findByTestId('release-state');
      expect(await within(state).findByText('differs')).toBeInTheDocument();
      expect(within(state).getByTestId('sync-differences')).toHaveTextContent(
        'revision 3 was not made by the portal (helm: "Rollback to 1")',
      );
      expect(
        within(state).getByText(/revision 3 \(hello-0.1.0, deployed\)/),
      ).toBeVisible();
      // The plan's own chip still shows the plan's state.
      expect(screen.getAllByTestId('plan-status')[0]).toHaveTextContent(
        'deployed',
      );
    });

    it('says in sync, with who made the live revision', async () => {
      await renderPlan(
        { ...readyPlan, status: 'deployed' },
        { getPlanSync: async () => inSync },
      );
      const state = await screen.findByTestId('release-state');
      expect(await within(state).findByText('in sync')).toBeInTheDocument();
      expect(within(state).queryByTestId('sync-differences')).toBeNull();
      expect(within(state).getByText(/by user:default\/guest/)).toBeVisible();
    });

    it('says not installed for a draft', async () => {
      await renderPlan(draftPlan);
      const state = await screen.findByTestId('release-state');
      expect(
        await within(state).findByText('not installed'),
      ).toBeInTheDocument();
      expect(within(state).getByText('health unknown')).toBeInTheDocument();
    });

    it('says the sync state is unknown when the cluster cannot be read', async () => {
      await renderPlan(readyPlan, {
        getPlanSync: async () => {
          throw new Error('cluster unreachable');
        },
      });
      const state = await screen.findByTestId('release-state');
      expect(
        await within(state).findByText('sync unknown'),
      ).toBeInTheDocument();
    });
  });

  describe('gates', () => {
    it('shows gates of an older plan revision as stale, not passed', async () => {
      await renderPlan({ ...readyPlan, revision: 2 });
      const stale = await screen.findAllByTestId('gate-stale');
      expect(stale).toHaveLength(2);
      expect(
        screen.getAllByText(/the plan was edited since \(revision 1 → 2\)/),
      ).toHaveLength(2);
    });

    it('shows gates as stale when the followed profile changed after them', async () => {
      await renderPlan(
        { ...readyPlan, profileRevision: undefined },
        {
          getProfile: async () => ({
            ...helloProfile,
            updatedAt: '2026-11-23T12:30:00Z',
          }),
        },
      );
      expect(await screen.findAllByTestId('gate-stale')).toHaveLength(2);
      expect(
        screen.getAllByText(/the values profile changed since/),
      ).toHaveLength(2);
    });

    it('shows current gates as passed', async () => {
      await renderPlan(readyPlan);
      expect(await screen.findAllByText('passed')).toHaveLength(2);
      expect(screen.queryByTestId('gate-stale')).toBeNull();
    });
  });

  describe('apply confirmation', () => {
    it("shows the dry-run's summary and a link to its full diff before applying", async () => {
      const { api } = await renderPlan(readyPlan);
      const apply = within(await screen.findByTestId('plan-actions')).getByRole(
        'button',
        { name: 'Apply' },
      );
      await waitFor(() => expect(apply).toBeEnabled());
      fireEvent.click(apply);
      const dialog = await screen.findByRole('dialog');
      const summary = await within(dialog).findByTestId('apply-summary');
      expect(summary).toHaveTextContent('1 added');
      expect(summary).toHaveTextContent('1 changed');
      expect(summary).toHaveTextContent('0 removed');
      expect(dialog).toHaveTextContent('1 warning');
      expect(dialog).toHaveTextContent('container hello has no memory limit');
      expect(api.getOperation).toHaveBeenCalledWith('op-dry-run');
      expect(within(dialog).getByTestId('apply-diff-link')).toHaveAttribute(
        'href',
        expect.stringMatching(new RegExp(`/dry-run\\?plan=${readyPlan.id}$`)),
      );
      // Not a production target: no typing needed.
      expect(within(dialog).queryByLabelText('Confirmation')).toBeNull();
      fireEvent.click(within(dialog).getByRole('button', { name: 'Apply' }));
      await waitFor(() =>
        expect(api.applyPlan).toHaveBeenCalledWith(readyPlan.id),
      );
    });

    it('makes the user type the release name on a production target', async () => {
      const { api } = await renderPlan(readyPlan, {
        getTarget: async () => ({ ...teamATarget, production: true }),
      });
      const apply = within(await screen.findByTestId('plan-actions')).getByRole(
        'button',
        { name: 'Apply' },
      );
      await waitFor(() => expect(apply).toBeEnabled());
      fireEvent.click(apply);
      const dialog = await screen.findByRole('dialog');
      await within(dialog).findByTestId('apply-summary');
      expect(dialog).toHaveTextContent('local-team-a is a production target');
      const confirm = within(dialog).getByRole('button', { name: 'Apply' });
      expect(confirm).toBeDisabled();
      fireEvent.change(within(dialog).getByLabelText('Confirmation'), {
        target: { value: 'payments' },
      });
      expect(confirm).toBeDisabled();
      fireEvent.change(within(dialog).getByLabelText('Confirmation'), {
        target: { value: readyPlan.releaseName },
      });
      expect(confirm).toBeEnabled();
      fireEvent.click(confirm);
      await waitFor(() =>
        expect(api.applyPlan).toHaveBeenCalledWith(readyPlan.id),
      );
    });

    it("says when the dry-run's summary cannot be read", async () => {
      await renderPlan(readyPlan, {
        getOperation: async () => {
          throw new Error('gone');
        },
      });
      const apply = within(await screen.findByTestId('plan-actions')).getByRole(
        'button',
        { name: 'Apply' },
      );
      await waitFor(() => expect(apply).toBeEnabled());
      fireEvent.click(apply);
      const dialog = await screen.findByRole('dialog');
      expect(
        await within(dialog).findByText(/summary could not be read: gone/),
      ).toBeInTheDocument();
    });
  });

  describe('plan selection', () => {
    const older: ReleasePlan = {
      ...draftPlan,
      id: 'plan-older',
      releaseName: 'payments-old',
      statusChangedAt: '2026-11-20T12:00:00Z',
      updatedAt: '2026-11-20T12:00:00Z',
    };
    const newer: ReleasePlan = {
      ...draftPlan,
      id: 'plan-newer',
      releaseName: 'payments-new',
      statusChangedAt: '2026-11-23T12:00:00Z',
    };

    beforeEach(() => window.sessionStorage.clear());

    it('opens on the most recently changed plan', async () => {
      await renderPlan(older, {
        listPlans: async () => ({ items: [older, newer], totalCount: 2 }),
      });
      expect(await screen.findByText('Plan payments-new')).toBeInTheDocument();
    });

    it('opens on the plan with a running operation first', async () => {
      await renderPlan(older, {
        listPlans: async () => ({
          items: [newer, { ...older, runningOperationId: 'op-running' }],
          totalCount: 2,
        }),
      });
      expect(await screen.findByText('Plan payments-old')).toBeInTheDocument();
    });

    it('remembers the chosen plan for the other tabs', async () => {
      await renderPlan(older, {
        listPlans: async () => ({ items: [older, newer], totalCount: 2 }),
      });
      fireEvent.click(await screen.findByText('payments-old'));
      expect(await screen.findByText('Plan payments-old')).toBeInTheDocument();
      expect(
        window.sessionStorage.getItem(
          `deployments:selected-plan:${PAYMENTS_API_REF}`,
        ),
      ).toBe('plan-older');
    });
  });

  it('shows an edit as the last change in the plan header', async () => {
    await renderPlan({
      ...readyPlan,
      revision: 2,
      updatedAt: '2026-11-23T13:00:00Z',
      updatedBy: 'user:default/editor',
    });
    expect(
      await screen.findByText(
        /Revision 2 · last change by user:default\/editor/,
      ),
    ).toBeInTheDocument();
  });
});
