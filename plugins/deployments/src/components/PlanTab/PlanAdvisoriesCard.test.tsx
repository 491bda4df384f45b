import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  draftPlan,
  fakeAdvisory,
  fakeDeploymentsApi,
  responseError,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanAdvisoriesCard } from './PlanAdvisoriesCard';

const deployedPlan = { ...draftPlan, status: 'deployed' as const };

const check = {
  planId: draftPlan.id,
  checkedAt: '2026-12-03T09:30:00Z',
  running: {
    images: [
      {
        workload: 'Deployment/payments',
        container: 'app',
        init: false,
        image: 'registry.test/team/app:1.2.3',
      },
    ],
    chart: {
      name: 'hello',
      version: '0.1.0',
      reference: 'oci://registry.test/charts/hello',
    },
  },
  problems: [],
};

const chartPatch = fakeAdvisory({
  id: 'adv-chart',
  subjectKind: 'chart',
  subject: 'chart',
  workload: undefined,
  container: undefined,
  running: '0.1.0',
  source: 'oci://registry.test/charts/hello',
  available: '0.1.1',
  remedy: {
    type: 'chart-version',
    reference: 'oci://registry.test/charts/hello',
    version: '0.1.1',
  },
});

const commandAdvisory = fakeAdvisory({
  id: 'adv-cmd',
  kind: 'minor',
  available: '1.3.0',
  remedy: {
    type: 'command',
    command:
      'kubectl -n team-a set image deployment/payments app=registry.test/team/app:1.3.0',
  },
});

describe('PlanAdvisoriesCard', () => {
  it('shows a loading state, then each advisory with the exact way to act', async () => {
    const api = fakeDeploymentsApi({
      getPlanAdvisories: async () => ({
        items: [fakeAdvisory(), commandAdvisory, chartPatch],
        check,
      }),
    });
    await renderDeployments(<PlanAdvisoriesCard plan={deployedPlan} />, {
      api,
    });
    const rows = await screen.findAllByTestId('advisory-row');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent('Patch');
    expect(rows[0]).toHaveTextContent('1.2.4');
    expect(rows[0]).toHaveTextContent('Set image.tag to 1.2.4');
    expect(rows[0]).toHaveTextContent('tag: 1.2.4');
    expect(rows[1]).toHaveTextContent(
      'kubectl -n team-a set image deployment/payments app=registry.test/team/app:1.3.0',
    );
    expect(rows[1]).toHaveTextContent('never runs it');
    expect(
      within(rows[2]).getByRole('button', {
        name: 'Create plan revision with 0.1.1',
      }),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/chart hello 0.1.0, 1 container image/),
    ).toBeInTheDocument();
  });

  it('creates the chart patch’s plan revision on click and says what to do next', async () => {
    const createAdvisoryPlanRevision = jest.fn(async () => ({
      ...deployedPlan,
      revision: 2,
      chart: { ...deployedPlan.chart, version: '0.1.1' },
    }));
    const onRevised = jest.fn();
    const api = fakeDeploymentsApi({
      getPlanAdvisories: async () => ({ items: [chartPatch], check }),
      createAdvisoryPlanRevision,
    });
    const { alertApi } = await renderDeployments(
      <PlanAdvisoriesCard plan={deployedPlan} onRevised={onRevised} />,
      { api },
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Create plan revision with 0.1.1',
      }),
    );
    await waitFor(() => expect(onRevised).toHaveBeenCalled());
    expect(createAdvisoryPlanRevision).toHaveBeenCalledWith(
      draftPlan.id,
      'adv-chart',
    );
    expect(alertApi.getAlerts()).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          /Plan revision 2 uses hello 0.1.1: run its dry-run/,
        ),
      }),
    ]);
  });

  it('dismisses with a reason', async () => {
    const dismissPlanAdvisory = jest.fn(async () =>
      fakeAdvisory({ state: 'dismissed' }),
    );
    const api = fakeDeploymentsApi({
      getPlanAdvisories: async () => ({ items: [fakeAdvisory()], check }),
      dismissPlanAdvisory,
    });
    await renderDeployments(<PlanAdvisoriesCard plan={deployedPlan} />, {
      api,
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Dismiss' }));
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Dismiss' });
    expect(confirm).toBeDisabled();
    fireEvent.change(within(dialog).getByLabelText(/Reason/), {
      target: { value: 'waiting for the vendor' },
    });
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(dismissPlanAdvisory).toHaveBeenCalledWith(draftPlan.id, 'adv-1', {
        reason: 'waiting for the vendor',
      }),
    );
  });

  it('says when the release has not been checked, and when it runs the newest', async () => {
    const api = fakeDeploymentsApi({
      getPlanAdvisories: async () => ({ items: [] }),
    });
    await renderDeployments(<PlanAdvisoriesCard plan={deployedPlan} />, {
      api,
    });
    expect(await screen.findByText(/Not checked yet/)).toBeInTheDocument();
  });

  it('shows a registry that could not be reached', async () => {
    const api = fakeDeploymentsApi({
      getPlanAdvisories: async () => ({
        items: [],
        check: {
          ...check,
          problems: [
            {
              source: '127.0.0.1:1/team/app',
              message: 'Could not reach 127.0.0.1:1 for the tags: ECONNREFUSED',
            },
          ],
        },
      }),
    });
    await renderDeployments(<PlanAdvisoriesCard plan={deployedPlan} />, {
      api,
    });
    expect(
      await screen.findByText(
        /Could not check 127.0.0.1:1\/team\/app: Could not reach/,
      ),
    ).toBeInTheDocument();
    expect(screen.getByText(/Nothing newer/)).toBeInTheDocument();
  });

  it('shows why the advisories could not be read', async () => {
    const api = fakeDeploymentsApi({
      getPlanAdvisories: async () => {
        throw responseError(
          403,
          'NotAllowedError',
          'Not allowed: deployments.plan.read',
        );
      },
    });
    await renderDeployments(<PlanAdvisoriesCard plan={deployedPlan} />, {
      api,
    });
    expect(
      await screen.findByText(/Could not read the advisories of this plan/),
    ).toBeInTheDocument();
  });
});
