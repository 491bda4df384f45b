import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  adminTarget,
  draftPlan,
  fakeDeploymentsApi,
  helloChart,
  helloProfile,
  PAYMENTS_API_REF,
  teamATarget,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanDialog } from './PlanDialog';

function change(element: HTMLElement, value: string) {
  fireEvent.change(element, { target: { value } });
}

async function renderDialog(
  api = fakeDeploymentsApi({
    listTargets: async () => ({
      items: [teamATarget, adminTarget],
      totalCount: 2,
    }),
  }),
) {
  const onSaved = jest.fn();
  await renderDeployments(
    <PlanDialog
      open
      entityRef={PAYMENTS_API_REF}
      suggestedReleaseName="payments-api"
      onSaved={onSaved}
      onClose={() => {}}
    />,
    { api },
  );
  const dialog = await screen.findByRole('dialog');
  await within(dialog).findByRole('option', { name: 'hello 0.1.0' });
  return { api, onSaved, dialog };
}

describe('PlanDialog', () => {
  it('creates a plan from a chart, a target, an allowed namespace and a profile', async () => {
    const { api, onSaved, dialog } = await renderDialog();
    change(within(dialog).getByTestId('plan-chart'), helloChart.id);
    change(within(dialog).getByTestId('plan-target'), 'local-team-a');
    // An allowlist without globs is a choice, preset to its first entry.
    const namespace = within(dialog).getByTestId('plan-namespace');
    expect(namespace.tagName).toBe('SELECT');
    expect(namespace).toHaveValue('team-a');
    await within(dialog).findByRole('option', {
      name: 'payments-dev (revision 2)',
    });
    change(within(dialog).getByTestId('plan-profile'), helloProfile.id);
    fireEvent.click(within(dialog).getByLabelText(/Run the chart's tests/));
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Create plan' }),
    );
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(api.createPlan).toHaveBeenCalledWith({
      entityRef: PAYMENTS_API_REF,
      chartId: helloChart.id,
      target: 'local-team-a',
      namespace: 'team-a',
      releaseName: 'payments-api',
      profileId: helloProfile.id,
      options: {
        timeoutSeconds: 300,
        historyMax: 10,
        createNamespace: false,
        runTests: true,
      },
    });
    expect(api.listProfiles).toHaveBeenCalledWith(
      expect.objectContaining({ chartId: helloChart.id }),
    );
  });

  it('validates the release name and a free-text namespace against glob allowlists', async () => {
    const { api, dialog } = await renderDialog();
    change(within(dialog).getByTestId('plan-chart'), helloChart.id);
    change(within(dialog).getByTestId('plan-target'), 'local-admin');
    const namespace = within(dialog).getByTestId('plan-namespace');
    expect(namespace.tagName).toBe('INPUT');
    change(namespace, 'kube-system');
    expect(
      await within(dialog).findByText(/does not allow namespace "kube-system"/),
    ).toBeInTheDocument();
    change(namespace, 'sandbox-42');
    await waitFor(() =>
      expect(within(dialog).queryByText(/does not allow namespace/)).toBeNull(),
    );
    change(within(dialog).getByTestId('plan-release-name'), 'Not_Valid');
    expect(
      await within(dialog).findByText(/must consist of lower case letters/),
    ).toBeInTheDocument();
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Create plan' }),
    );
    expect(api.createPlan).not.toHaveBeenCalled();
    change(within(dialog).getByTestId('plan-release-name'), 'sandbox-hello');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Create plan' }),
    );
    await waitFor(() =>
      expect(api.createPlan).toHaveBeenCalledWith(
        expect.objectContaining({
          namespace: 'sandbox-42',
          releaseName: 'sandbox-hello',
          profileId: undefined,
        }),
      ),
    );
  });

  it('edits a plan as a new revision', async () => {
    const api = fakeDeploymentsApi();
    const onSaved = jest.fn();
    await renderDeployments(
      <PlanDialog
        open
        entityRef={PAYMENTS_API_REF}
        plan={draftPlan}
        onSaved={onSaved}
        onClose={() => {}}
      />,
      { api },
    );
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('revision 1 → 2');
    await within(dialog).findByRole('option', { name: 'hello 0.1.0' });
    change(within(dialog).getByLabelText('Timeout (seconds)'), '600');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save plan' }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(api.updatePlan).toHaveBeenCalledWith(
      draftPlan.id,
      expect.objectContaining({
        expectedRevision: 1,
        options: expect.objectContaining({ timeoutSeconds: 600 }),
      }),
    );
  });
});
