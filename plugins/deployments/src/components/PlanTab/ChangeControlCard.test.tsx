import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  draftPlan,
  fakeApproval,
  fakeDeploymentsApi,
  fakeOperation,
  PAYMENTS_API_REF,
  responseError,
  teamATarget,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { formatTime } from '../shared';
import { PlanTab } from './PlanTab';

const gate = (at: string) => ({
  operationId: '0b5e0c43-0000-4000-8000-000000000004',
  passed: true,
  inputsHash: 'sha256:inputs-1',
  planRevision: 1,
  at,
});

/** Dry-run and preflight passed: only change control stands before apply. */
const readyPlan: ReleasePlan = {
  ...draftPlan,
  status: 'preflight-passed',
  lastDryRun: gate('2026-11-23T12:00:00Z'),
  lastPreflight: gate('2026-11-23T12:01:00Z'),
};

const productionTarget = {
  ...teamATarget,
  production: true,
  requireApproval: true,
  changeWindows: {
    timeZone: 'Europe/Berlin',
    windows: [{ cron: '0 9 * * 1-4', durationMinutes: 240 }],
    freezes: [],
  },
};

const inHours = (hours: number) =>
  new Date(Date.now() + hours * 60 * 60 * 1000).toISOString();

/** Hovers a disabled button's wrapper and waits for its reason. */
async function expectReason(button: HTMLElement, reason: RegExp) {
  fireEvent.mouseOver(button.parentElement!);
  expect(await screen.findByRole('tooltip')).toHaveTextContent(reason);
  fireEvent.mouseLeave(button.parentElement!);
}

async function planActions() {
  return within(await screen.findByTestId('plan-actions'));
}

describe('Change control on the Plan tab', () => {
  it('shows a closed window with when it next opens, and why apply waits', async () => {
    const nextOpenAt = inHours(3);
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => ({ ...productionTarget, requireApproval: false }),
      getPlanChangeWindow: async () => ({
        open: false,
        reason: 'outside every change window',
        nextOpenAt,
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const status = await screen.findByTestId('change-window-status');
    await waitFor(() => expect(status).toHaveTextContent('Closed now'));
    expect(status).toHaveTextContent('outside every change window');
    expect(status).toHaveTextContent('Next opens in 3 hours');
    expect(status).toHaveTextContent(formatTime(nextOpenAt));
    expect(await screen.findByTestId('production-marker')).toHaveTextContent(
      'Production',
    );
    expect(api.getPlanChangeWindow).toHaveBeenCalledWith(readyPlan.id);
    // Not requiring approval: no approvals panel.
    expect(screen.queryByTestId('approvals')).toBeNull();

    const actions = await planActions();
    const apply = actions.getByRole('button', { name: 'Apply' });
    await waitFor(() =>
      expect(screen.getByTestId('apply-blocked-reason')).toHaveTextContent(
        /change window is closed \(outside every change window\); it opens in 3 hours/,
      ),
    );
    expect(apply).toBeDisabled();
    await expectReason(apply, /Only an emergency override/);
  });

  it('shows an open window with when it closes', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getPlanChangeWindow: async () => ({ open: true, closesAt: inHours(2) }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const status = await screen.findByTestId('change-window-status');
    await waitFor(() => expect(status).toHaveTextContent('Open now'));
    expect(status).toHaveTextContent('closes in 2 hours');
    expect(screen.queryByTestId('production-marker')).toBeNull();
    const apply = (await planActions()).getByRole('button', { name: 'Apply' });
    await waitFor(() => expect(apply).toBeEnabled());
  });

  it('says so when the change window cannot be read', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getPlanChangeWindow: async () => {
        throw responseError(503, 'ServiceUnavailableError', 'Database busy');
      },
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(
        /Could not read the change window: Database busy/,
      ),
    ).toBeInTheDocument();
  });

  it('lists approval requests, requests one and approves another user’s', async () => {
    const pending = fakeApproval({ expiresAt: inHours(20) });
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => productionTarget,
      listPlanApprovals: async () => ({ items: [pending], totalCount: 1 }),
    });
    const { alertApi } = await renderDeployments(
      <PlanTab entityRef={PAYMENTS_API_REF} />,
      { api },
    );
    const panel = within(await screen.findByTestId('approvals'));
    expect(await panel.findByText('user:default/alice')).toBeInTheDocument();
    expect(
      panel.getByText('“Two replicas for the launch”'),
    ).toBeInTheDocument();
    expect(panel.getByTestId('approval-status')).toHaveTextContent('pending');
    expect(panel.getByText(formatTime(pending.expiresAt))).toBeInTheDocument();

    // Apply waits for the pending request.
    const apply = (await planActions()).getByRole('button', { name: 'Apply' });
    await waitFor(() =>
      expect(screen.getByTestId('apply-blocked-reason')).toHaveTextContent(
        /waits for another user to approve the pending request/,
      ),
    );
    expect(apply).toBeDisabled();

    // The diff being approved: the dry-run the request is bound to.
    fireEvent.click(
      panel.getByRole('button', {
        name: 'Show the diff of apply requested by user:default/alice',
      }),
    );
    const diff = await screen.findByTestId('approved-diff');
    expect(
      (await within(diff).findAllByText('payments-api-hello', { exact: false }))
        .length,
    ).toBeGreaterThan(0);
    expect(api.getOperation).toHaveBeenCalledWith(pending.dryRunOperationId);
    fireEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', { name: 'Close' }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    // Request an approval with kind and comment.
    const request = panel.getByRole('button', { name: 'Request approval' });
    await waitFor(() => expect(request).toBeEnabled());
    fireEvent.click(request);
    const requestDialog = await screen.findByRole('dialog');
    fireEvent.change(within(requestDialog).getByTestId('approval-comment'), {
      target: { value: 'Launch day' },
    });
    fireEvent.click(
      within(requestDialog).getByRole('button', { name: 'Request approval' }),
    );
    await waitFor(() =>
      expect(api.requestPlanApproval).toHaveBeenCalledWith(readyPlan.id, {
        kind: 'apply',
        comment: 'Launch day',
      }),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(alertApi.getAlerts().map(a => a.message)).toContain(
      'Approval requested: another user can approve it now.',
    );

    // Approve alice's request with a comment.
    fireEvent.click(
      panel.getByRole('button', {
        name: 'Approve apply requested by user:default/alice',
      }),
    );
    const decideDialog = await screen.findByRole('dialog');
    fireEvent.change(within(decideDialog).getByTestId('decision-comment'), {
      target: { value: 'Diff looks right' },
    });
    fireEvent.click(
      within(decideDialog).getByRole('button', { name: 'Approve' }),
    );
    await waitFor(() =>
      expect(api.decidePlanApproval).toHaveBeenCalledWith(
        readyPlan.id,
        pending.id,
        { decision: 'approve', comment: 'Diff looks right' },
      ),
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    // The approvals are read again after each change.
    expect(api.listPlanApprovals.mock.calls.length).toBeGreaterThanOrEqual(3);
  });

  it('enables apply once the request is approved', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => productionTarget,
      listPlanApprovals: async () => ({
        items: [
          fakeApproval({
            status: 'approved',
            decidedBy: 'user:default/bob',
            decidedAt: '2026-11-23T12:03:00Z',
            decisionComment: 'Go',
            expiresAt: inHours(5),
          }),
        ],
        totalCount: 1,
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const panel = within(await screen.findByTestId('approvals'));
    expect(await panel.findByText('user:default/bob')).toBeInTheDocument();
    expect(panel.getByText('“Go”')).toBeInTheDocument();
    expect(panel.queryByRole('button', { name: /^Approve/ })).toBeNull();
    const apply = (await planActions()).getByRole('button', { name: 'Apply' });
    await waitFor(() => expect(apply).toBeEnabled());
    fireEvent.click(apply);
    // A production target: the release name is typed to confirm.
    const dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText('Confirmation'), {
      target: { value: readyPlan.releaseName },
    });
    const confirm = within(dialog).getByRole('button', { name: 'Apply' });
    await waitFor(() => expect(confirm).toBeEnabled());
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(api.applyPlan).toHaveBeenCalledWith(readyPlan.id),
    );
  });

  it('does not let the requester approve their own request', async () => {
    const own = fakeApproval({ requestedBy: 'user:default/guest' });
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => productionTarget,
      listPlanApprovals: async () => ({ items: [own], totalCount: 1 }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const panel = within(await screen.findByTestId('approvals'));
    const approve = await panel.findByRole('button', {
      name: 'Approve apply requested by user:default/guest',
    });
    await waitFor(() => expect(approve).toBeDisabled());
    await expectReason(approve, /another user has to approve/);
    expect(
      panel.getByRole('button', {
        name: 'Reject apply requested by user:default/guest',
      }),
    ).toBeDisabled();
  });

  it('shows the backend refusal of a decision in the dialog', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => productionTarget,
      listPlanApprovals: async () => ({
        items: [fakeApproval()],
        totalCount: 1,
      }),
      decidePlanApproval: jest
        .fn()
        .mockRejectedValue(
          responseError(
            403,
            'NotAllowedError',
            'The requester cannot approve their own request',
          ),
        ),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
      // The UI cannot tell (another session of alice): the backend refuses.
      userEntityRef: 'user:default/alice-2',
    });
    const panel = within(await screen.findByTestId('approvals'));
    const reject = await panel.findByRole('button', {
      name: 'Reject apply requested by user:default/alice',
    });
    await waitFor(() => expect(reject).toBeEnabled());
    fireEvent.click(reject);
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Reject' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'The requester cannot approve their own request',
    );
    expect(api.decidePlanApproval).toHaveBeenCalledWith(
      readyPlan.id,
      fakeApproval().id,
      { decision: 'reject' },
    );
  });

  it('says when there are no approval requests yet', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => productionTarget,
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(/No approval requests yet/),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(screen.getByTestId('apply-blocked-reason')).toHaveTextContent(
        /requires approval: apply needs another user's approval first/,
      ),
    );
  });

  it('applies outside the window with an emergency override reason', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [readyPlan], totalCount: 1 }),
      getTarget: async () => ({ ...productionTarget, requireApproval: false }),
      getPlanChangeWindow: async () => ({
        open: false,
        reason: 'Year-end freeze',
        nextOpenAt: inHours(48),
      }),
      applyPlan: jest
        .fn()
        .mockRejectedValueOnce(
          responseError(
            403,
            'NotAllowedError',
            'Overriding the change window needs deployments.change-window.override',
          ),
        )
        .mockResolvedValueOnce(
          fakeOperation({ kind: 'apply', status: 'running' }),
        ),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const actions = await planActions();
    const override = await actions.findByRole('button', {
      name: 'Emergency override',
    });
    await waitFor(() => expect(override).toBeEnabled());
    fireEvent.click(override);
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Year-end freeze');
    const start = within(dialog).getByRole('button', {
      name: 'Override and start',
    });
    expect(start).toBeDisabled();
    fireEvent.change(within(dialog).getByTestId('override-reason'), {
      target: { value: 'INC-4711: payments down' },
    });
    fireEvent.click(start);
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'needs deployments.change-window.override',
    );
    fireEvent.click(start);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.applyPlan).toHaveBeenLastCalledWith(readyPlan.id, {
      overrideReason: 'INC-4711: payments down',
    });
  });

  it('asks for an override reason before a rollback while the window is closed', async () => {
    const deployedPlan: ReleasePlan = { ...readyPlan, status: 'deployed' };
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [deployedPlan], totalCount: 1 }),
      getTarget: async () => ({ ...productionTarget, requireApproval: false }),
      getPlanChangeWindow: async () => ({
        open: false,
        nextOpenAt: inHours(1),
      }),
      getPlanHistory: async () => ({
        items: [
          {
            revision: 2,
            updated: '2026-11-23T12:05:00Z',
            status: 'deployed',
            chart: 'hello-0.1.0',
            description: 'Upgrade complete',
          },
          {
            revision: 1,
            updated: '2026-11-23T12:02:00Z',
            status: 'superseded',
            chart: 'hello-0.1.0',
            description: 'Install complete',
          },
        ],
      }),
    });
    await renderDeployments(<PlanTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    await screen.findByText(/Closed now/);
    const older = await screen.findByRole('button', {
      name: 'Roll back to revision 1',
    });
    await waitFor(() => expect(older).toBeEnabled());
    fireEvent.click(older);
    fireEvent.click(
      within(await screen.findByRole('dialog')).getByRole('button', {
        name: 'Roll back',
      }),
    );
    expect(
      await screen.findByText('Emergency override: Rollback to revision 1'),
    ).toBeInTheDocument();
    const dialog = screen.getByRole('dialog');
    fireEvent.change(within(dialog).getByTestId('override-reason'), {
      target: { value: 'Bad release' },
    });
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Override and start' }),
    );
    await waitFor(() =>
      expect(api.rollbackPlan).toHaveBeenCalledWith(deployedPlan.id, 1, {
        overrideReason: 'Bad release',
      }),
    );
  });
});
