import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  draftPlan,
  fakeDeploymentsApi,
  fakeOperation,
  PAYMENTS_API_REF,
  responseError,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanTab } from './PlanTab';

const gate = (at: string) => ({
  operationId: 'op',
  passed: true,
  inputsHash: 'sha256:a',
  planRevision: 1,
  at,
});

const readyPlan: ReleasePlan = {
  ...draftPlan,
  status: 'preflight-passed',
  lastDryRun: gate('2026-11-23T12:00:00Z'),
  lastPreflight: gate('2026-11-23T12:01:00Z'),
};

const deployedPlan: ReleasePlan = {
  ...readyPlan,
  status: 'deployed',
  statusMessage: 'Helm revision 2 deployed',
};

const history = [
  {
    revision: 2,
    updated: '2026-11-23T12:05:00Z',
    status: 'deployed',
    chart: 'hello-0.1.0',
    description: 'Upgrade complete',
    planRevision: 1,
    actor: 'user:default/guest',
  },
  {
    revision: 1,
    updated: '2026-11-23T12:02:00Z',
    status: 'superseded',
    chart: 'hello-0.1.0',
    description: 'Install complete',
    planRevision: 1,
    actor: 'user:default/guest',
  },
];

/** Hovers a disabled button's wrapper and waits for its reason. */
async function expectReason(button: HTMLElement, reason: RegExp) {
  fireEvent.mouseOver(button.parentElement!);
  expect(await screen.findByText(reason)).toBeInTheDocument();
  fireEvent.mouseLeave(button.parentElement!);
}

describe('PlanTab', () => {
  it('says what to do when the component has no plans', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [], totalCount: 0 }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(
        'No release plans for this component yet — create one',
      ),
    ).toBeInTheDocument();
    expect(api.listPlans).toHaveBeenCalledWith(
      expect.objectContaining({ entityRef: PAYMENTS_API_REF }),
    );
    expect(screen.getByRole('button', { name: 'New plan' })).toBeEnabled();
  });

  it('shows an error with what to check when plans cannot be listed', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => {
        throw new Error('Failed to fetch');
      },
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(/Could not list the release plans/),
    ).toBeInTheDocument();
  });

  it('lists plans with status, message and last change, and explains why apply waits', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({
        items: [{ ...draftPlan, statusMessage: 'Waiting for a dry-run' }],
        totalCount: 1,
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      (await screen.findAllByText('Waiting for a dry-run')).length,
    ).toBeGreaterThan(0);
    expect(screen.getAllByTestId('plan-status')[0]).toHaveTextContent('draft');
    expect(screen.getAllByText('user:default/guest').length).toBeGreaterThan(0);
    const actions = await screen.findByTestId('plan-actions');
    const dryRun = within(actions).getByRole('button', { name: 'Dry-run' });
    await waitFor(() => expect(dryRun).toBeEnabled());
    const preflight = within(actions).getByRole('button', {
      name: 'Preflight',
    });
    const apply = within(actions).getByRole('button', { name: 'Apply' });
    expect(preflight).toBeDisabled();
    expect(apply).toBeDisabled();
    await expectReason(apply, /Apply needs a passed dry-run/);
    await expectReason(preflight, /the preflight checks the objects/);
    expect(
      within(actions).getByRole('button', { name: 'Uninstall' }),
    ).toBeDisabled();
    expect(
      await screen.findByText(/The release is not installed/),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(/No Helm revisions yet/),
    ).toBeInTheDocument();
  });

  it('starts a dry-run and follows it live until it finishes', async () => {
    let polls = 0;
    const running = fakeOperation({ status: 'running', result: undefined });
    const api = fakeDeploymentsApi({
      dryRunPlan: async () => running,
      getOperation: async () =>
        ++polls < 2 ? running : fakeOperation({ status: 'succeeded' }),
      listOperationLines: async (_id, options) => ({
        items:
          (options?.after ?? 0) === 0
            ? [
                { seq: 1, at: '2026-11-23T12:01:00Z', text: 'rendering' },
                { seq: 2, at: '2026-11-23T12:01:01Z', text: 'guardrails ok' },
              ]
            : [],
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const dryRun = await screen.findByRole('button', { name: 'Dry-run' });
    await waitFor(() => expect(dryRun).toBeEnabled());
    fireEvent.click(dryRun);
    await waitFor(() =>
      expect(api.dryRunPlan).toHaveBeenCalledWith(draftPlan.id),
    );
    const progress = await screen.findByTestId('operation-progress');
    expect(
      await within(progress).findByText('2 progress line(s)'),
    ).toBeInTheDocument();
    expect(
      await screen.findByText(
        /2 object\(s\), 2 changed/,
        {},
        { timeout: 15_000 },
      ),
    ).toBeInTheDocument();
    expect(screen.getByTestId('operation-status')).toHaveTextContent(
      'succeeded',
    );
    expect(api.listOperationLines).toHaveBeenCalledWith(running.id, {
      after: 0,
      limit: 500,
    });
  });

  it('cancels a running operation', async () => {
    const running = fakeOperation({
      kind: 'apply',
      status: 'running',
      result: undefined,
    });
    const api = fakeDeploymentsApi({
      listPlans: async () => ({
        items: [
          { ...readyPlan, status: 'applying', runningOperationId: running.id },
        ],
        totalCount: 1,
      }),
      getOperation: async () => running,
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const cancel = await screen.findByRole('button', { name: 'Cancel' });
    await waitFor(() => expect(cancel).toBeEnabled());
    expect(screen.getByRole('button', { name: 'Apply' })).toBeDisabled();
    fireEvent.click(cancel);
    await waitFor(() =>
      expect(api.cancelOperation).toHaveBeenCalledWith(running.id),
    );
  });

  it('applies once both gates passed, and shows the backend refusal', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      applyPlan: async () => {
        throw responseError(
          409,
          'ConflictError',
          'The plan inputs changed since the last passed dry-run',
        );
      },
    });
    const { alertApi } = await renderDeployments(
      <PlanTab entityRef={PAYMENTS_API_REF} />,
      { api },
    );
    const apply = await screen.findByRole('button', { name: 'Apply' });
    await waitFor(() => expect(apply).toBeEnabled());
    fireEvent.click(apply);
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Apply' });
    await waitFor(() => expect(confirm).toBeEnabled());
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(alertApi.getAlerts().map(a => a.message)).toContain(
        'Apply did not start: The plan inputs changed since the last passed dry-run',
      ),
    );
  });

  it('rolls back to a chosen revision after confirming', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [deployedPlan], totalCount: 1 }),
      getPlanHistory: async () => ({ items: history }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const current = await screen.findByRole('button', {
      name: 'Roll back to revision 2',
    });
    const older = screen.getByRole('button', {
      name: 'Roll back to revision 1',
    });
    await waitFor(() => expect(older).toBeEnabled());
    expect(current).toBeDisabled();
    fireEvent.click(older);
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('back to revision 1');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Roll back' }));
    await waitFor(() =>
      expect(api.rollbackPlan).toHaveBeenCalledWith(deployedPlan.id, 1, {}),
    );
  });

  it('uninstalls only after the release name is typed', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [deployedPlan], totalCount: 1 }),
      getPlanHistory: async () => ({ items: history }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const uninstall = await screen.findByRole('button', { name: 'Uninstall' });
    await waitFor(() => expect(uninstall).toBeEnabled());
    fireEvent.click(uninstall);
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Uninstall' });
    expect(confirm).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText('Confirmation'), {
      target: { value: 'payments' },
    });
    expect(confirm).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText('Confirmation'), {
      target: { value: deployedPlan.releaseName },
    });
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(api.uninstallPlan).toHaveBeenCalledWith(
        deployedPlan.id,
        deployedPlan.releaseName,
        {},
      ),
    );
  });

  it('offers recovery of an interrupted release (rollback without a revision)', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({
        items: [
          {
            ...deployedPlan,
            status: 'interrupted',
            statusMessage:
              'The backend stopped during apply; release left pending-upgrade',
          },
        ],
        totalCount: 1,
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      (await screen.findAllByText(/left pending-upgrade/)).length,
    ).toBeGreaterThan(0);
    const recover = screen.getByRole('button', { name: 'Recover (roll back)' });
    await waitFor(() => expect(recover).toBeEnabled());
    fireEvent.click(recover);
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Roll back' }));
    await waitFor(() =>
      expect(api.rollbackPlan).toHaveBeenCalledWith(
        deployedPlan.id,
        undefined,
        {},
      ),
    );
  });

  it('shows the live resources of a deployed release', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [deployedPlan], totalCount: 1 }),
      getPlanResources: async () => ({
        installed: true,
        namespace: 'team-a',
        releaseName: 'payments-api',
        summary: { healthy: true, message: 'All 3 objects are ready' },
        objects: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'payments-api-hello',
            namespace: 'team-a',
            state: 'present',
            health: { healthy: true, message: 'Available' },
            replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
            conditions: [],
            events: [],
          },
        ],
        pods: [
          {
            name: 'payments-api-hello-abc',
            namespace: 'team-a',
            phase: 'Running',
            ready: true,
            restarts: 3,
            workloads: ['Deployment/payments-api-hello'],
            containers: [
              {
                name: 'hello',
                init: false,
                ready: true,
                restartCount: 3,
                state: 'running',
                hasPrevious: true,
              },
            ],
            health: { healthy: true, message: 'Ready' },
            events: [
              {
                type: 'Warning',
                reason: 'BackOff',
                message: 'Back-off restarting failed container',
                count: 4,
              },
            ],
          },
        ],
        warnings: [],
        fetchedAt: '2026-11-23T12:10:00Z',
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText('All 3 objects are ready'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('2/2 ready, 2 updated, 2 available'),
    ).toBeInTheDocument();
    expect(screen.getByText('payments-api-hello-abc')).toBeInTheDocument();
    expect(
      screen.getByText(/Back-off restarting failed container \(×4\)/),
    ).toBeInTheDocument();
  });
});
