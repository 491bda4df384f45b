import { screen } from '@testing-library/react';
import {
  draftPlan,
  fakeAdvisory,
  fakeDeploymentsApi,
  PAYMENTS_API_REF,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { AdvisoriesOverviewCard } from './AdvisoriesOverviewCard';

const release = {
  entityRef: PAYMENTS_API_REF,
  target: 'local-team-a',
  namespace: 'team-a',
  releaseName: 'payments',
};

describe('AdvisoriesOverviewCard', () => {
  it('lists an entity’s advisories with their release linked to its plan, and releases that could not be checked', async () => {
    const listAdvisories = jest.fn(async () => ({
      items: [
        { ...fakeAdvisory(), release },
        {
          ...fakeAdvisory({
            id: 'adv-2',
            state: 'dismissed' as const,
            dismissedBy: 'user:default/alice',
            dismissReason: 'after the freeze',
          }),
          release,
        },
      ],
      problems: [
        {
          planId: 'other',
          releaseName: 'billing',
          checkedAt: '2026-12-03T09:00:00Z',
          problems: [
            {
              source: 'registry.down/app',
              message: 'Could not reach registry.down',
            },
          ],
        },
      ],
    }));
    await renderDeployments(
      <AdvisoriesOverviewCard entityRef={PAYMENTS_API_REF} />,
      { api: fakeDeploymentsApi({ listAdvisories }) },
    );
    expect(await screen.findByText('1 open, 1 dismissed')).toBeInTheDocument();
    expect(listAdvisories).toHaveBeenCalledWith({
      entityRef: PAYMENTS_API_REF,
    });
    const links = screen.getAllByRole('link', { name: 'payments' });
    expect(links[0].getAttribute('href')).toContain(
      `/deployments?plan=${draftPlan.id}`,
    );
    expect(
      screen.getByText(/Dismissed by user:default\/alice: after the freeze/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /billing, checked .*registry.down\/app: Could not reach/,
      ),
    ).toBeInTheDocument();
  });

  it('says when there is nothing to advise', async () => {
    await renderDeployments(<AdvisoriesOverviewCard />, {
      api: fakeDeploymentsApi(),
    });
    expect(await screen.findByText(/No advisories/)).toBeInTheDocument();
  });
});
