import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  draftPlan,
  fakeApproval,
  fakeDeploymentsApi,
  fakeOperation,
  PAYMENTS_API_REF,
  passedDryRunResult,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { DryRunTab } from './DryRunTab';

describe('DryRunTab', () => {
  it('shows the latest dry-run: inputs hash, warnings, objects with diff and manifest', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({
        items: [
          {
            ...draftPlan,
            status: 'dry-run-passed',
            lastDryRun: {
              operationId: fakeOperation().id,
              passed: true,
              inputsHash: 'sha256:inputs-1',
              planRevision: 1,
              at: '2026-11-23T12:01:05Z',
            },
          },
        ],
        totalCount: 1,
      }),
      listPlanOperations: async () => ({
        items: [
          fakeOperation({ id: 'apply-1', kind: 'apply' }),
          fakeOperation(),
        ],
        totalCount: 2,
      }),
    });
    await renderDeployments(<DryRunTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const result = await screen.findByTestId('dry-run-result');
    expect(api.getOperation).toHaveBeenCalledWith(fakeOperation().id);
    expect(screen.getByTestId('inputs-hash')).toHaveTextContent(
      'sha256:inputs-1',
    );
    expect(result).toHaveTextContent('1 warning(s)');
    expect(result).toHaveTextContent('container hello has no memory limit');
    expect(result).toHaveTextContent(
      '2 object(s): 1 added, 1 changed, 0 removed, 0 unchanged',
    );
    fireEvent.click(
      within(result).getByRole('button', {
        name: 'Deployment payments-api-hello',
      }),
    );
    const [diff, liveDiff] = await within(result).findAllByTestId(
      'unified-diff',
    );
    expect(diff).toHaveTextContent('- replicas: 1');
    expect(diff).toHaveTextContent('+ replicas: 2');
    // The same object against the live one, as the API server would apply it.
    expect(
      within(result).getByText(
        'Diff against the live object, as the API server would apply it',
      ),
    ).toBeInTheDocument();
    expect(liveDiff).toHaveTextContent('progressDeadlineSeconds: 600');
    expect(
      within(result).getByText(
        'Rendered manifest (from hello/templates/deployment.yaml)',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText(/plan changed since this dry-run/)).toBeNull();
  });

  it('shows guardrail violations in red and that the result is stale', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({
        items: [{ ...draftPlan, revision: 2 }],
        totalCount: 1,
      }),
      getOperation: async () =>
        fakeOperation({
          status: 'failed',
          error: 'Guardrails refused 1 object',
          result: {
            ...passedDryRunResult,
            passed: false,
            violations: [
              {
                object: 'ClusterRole escape-escalate',
                reason: 'cluster-scoped kind ClusterRole is not allowed',
              },
            ],
          },
        }),
    });
    await renderDeployments(<DryRunTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(/1 guardrail violation\(s\): apply is blocked/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/cluster-scoped kind ClusterRole is not allowed/),
    ).toBeInTheDocument();
    expect(screen.getByText('Guardrails refused 1 object')).toBeInTheDocument();
    expect(
      screen.getByText(/The plan changed since this dry-run/),
    ).toBeInTheDocument();
  });

  it('offers the first dry-run of a plan that has none', async () => {
    const api = fakeDeploymentsApi({
      listPlanOperations: async () => ({ items: [], totalCount: 0 }),
    });
    await renderDeployments(<DryRunTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(/has not been dry-run yet/),
    ).toBeInTheDocument();
    const run = screen.getByRole('button', { name: 'Run dry-run' });
    await waitFor(() => expect(run).toBeEnabled());
    fireEvent.click(run);
    await waitFor(() =>
      expect(api.dryRunPlan).toHaveBeenCalledWith(draftPlan.id),
    );
  });

  it('sends the user to the Plan tab when there is no plan', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [], totalCount: 0 }),
    });
    await renderDeployments(<DryRunTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    expect(
      await screen.findByText(/Create a release plan on the Plan tab/),
    ).toBeInTheDocument();
  });

  it('tells an approver that this dry-run waits for their decision', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({
        items: [
          {
            ...draftPlan,
            status: 'dry-run-passed',
            lastDryRun: {
              operationId: fakeOperation().id,
              passed: true,
              inputsHash: 'sha256:inputs-1',
              planRevision: 1,
              at: '2026-11-23T12:01:05Z',
            },
          },
        ],
        totalCount: 1,
      }),
      listPlanApprovals: async () => ({
        items: [fakeApproval({ dryRunOperationId: fakeOperation().id })],
        totalCount: 1,
      }),
    });
    await renderDeployments(<DryRunTab entityRef={PAYMENTS_API_REF} />, {
      api,
    });
    const note = await screen.findByTestId('pending-approval-note');
    expect(note).toHaveTextContent(
      'user:default/alice asks for approval to apply exactly this dry-run (“Two replicas for the launch”)',
    );
    expect(note).toHaveTextContent('under Change control on the Plan tab');
  });
});
