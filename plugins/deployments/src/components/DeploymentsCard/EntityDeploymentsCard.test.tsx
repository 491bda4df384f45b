import { EntityProvider } from '@backstage/plugin-catalog-react';
import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { screen, within } from '@testing-library/react';
import {
  draftPlan,
  fakeApproval,
  fakeDeploymentsApi,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { EntityDeploymentsCard } from './EntityDeploymentsCard';

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments-api', namespace: 'default' },
  spec: { type: 'service', owner: 'group:default/payments' },
};

const prod: ReleasePlan = {
  ...draftPlan,
  id: 'plan-prod',
  target: 'prod',
  releaseName: 'payments-prod',
  status: 'deployed',
};
const dev: ReleasePlan = {
  ...draftPlan,
  id: 'plan-dev',
  target: 'dev',
  releaseName: 'payments-dev',
  status: 'preflight-passed',
};

describe('EntityDeploymentsCard', () => {
  it('lists plans by target with sync, health, last apply and pending approvals', async () => {
    const api = fakeDeploymentsApi({
      listPlans: async () => ({ items: [prod, dev], totalCount: 2 }),
      getPlanSync: async id =>
        id === 'plan-prod'
          ? {
              status: 'differs',
              summary:
                'The release differs from the plan: revision 4 was not made by the portal',
              differences: [
                {
                  field: 'revision',
                  message: 'revision 4 was not made by the portal',
                },
              ],
              live: {
                revision: 4,
                status: 'deployed',
                chart: 'hello-0.1.0',
                updated: new Date(Date.now() - 2 * 3600_000).toISOString(),
                description: 'Upgrade complete',
                madeByPortal: false,
              },
              checkedAt: new Date().toISOString(),
            }
          : {
              status: 'not-installed',
              summary: 'No release payments-dev is installed in dev/team-a',
              differences: [],
              checkedAt: new Date().toISOString(),
            },
      getPlanResources: async id => ({
        installed: id === 'plan-prod',
        namespace: 'team-a',
        releaseName: id,
        summary: { healthy: id === 'plan-prod', message: '2/2 pods ready' },
        objects: [],
        pods: [],
        warnings: [],
        fetchedAt: new Date().toISOString(),
      }),
      listPlanApprovals: async id => ({
        items: id === 'plan-dev' ? [fakeApproval({ status: 'pending' })] : [],
        totalCount: id === 'plan-dev' ? 1 : 0,
      }),
    });
    await renderDeployments(
      <EntityProvider entity={entity}>
        <EntityDeploymentsCard />
      </EntityProvider>,
      { api },
    );
    const rows = await screen.findAllByTestId(/^deployments-card-row-/);
    // By target: dev before prod.
    expect(rows.map(row => row.dataset.testid)).toEqual([
      'deployments-card-row-payments-dev',
      'deployments-card-row-payments-prod',
    ]);
    const prodRow = within(rows[1]);
    expect(await prodRow.findByText('differs')).toBeInTheDocument();
    expect(await prodRow.findByText('healthy')).toBeInTheDocument();
    expect(prodRow.getByTestId('last-apply')).toHaveTextContent(
      'revision 4, 2 hours ago',
    );
    expect(prodRow.getByText('outside the portal')).toBeInTheDocument();
    expect(
      prodRow.getByRole('link', { name: 'payments-prod' }),
    ).toHaveAttribute(
      'href',
      '/catalog/default/component/payments-api/deployments?plan=plan-prod',
    );
    const devRow = within(rows[0]);
    expect(await devRow.findByText('not installed')).toBeInTheDocument();
    expect(await devRow.findByText('1 pending')).toBeInTheDocument();
  });

  it('says when the component has no plans', async () => {
    await renderDeployments(
      <EntityProvider entity={entity}>
        <EntityDeploymentsCard />
      </EntityProvider>,
      {
        api: fakeDeploymentsApi({
          listPlans: async () => ({ items: [], totalCount: 0 }),
        }),
      },
    );
    expect(
      await screen.findByText('Not deployed through the portal yet'),
    ).toBeInTheDocument();
  });
});
