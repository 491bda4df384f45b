import { screen, waitFor } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  healthyHealth,
  responseError,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { DeploymentsStatusBanner } from './DeploymentsStatusBanner';

describe('DeploymentsStatusBanner', () => {
  it('shows a sealed keyring as an error with a link to unlock it', async () => {
    const api = fakeDeploymentsApi({
      getHealthSummary: async () => ({
        ...healthyHealth,
        status: 'sealed',
        keyring: 'sealed',
      }),
    });
    await renderDeployments(<DeploymentsStatusBanner />, { api });
    expect(
      await screen.findByText(/The deployments keyring is sealed/),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Open the keyring' }),
    ).toHaveAttribute('href', '/deployments/keyring');
  });

  it('asks for a bootstrap, not an unlock, when there is no keyring yet', async () => {
    // The summary's status is 'sealed' for a missing keyring too.
    const api = fakeDeploymentsApi({
      getHealthSummary: async () => ({
        ...healthyHealth,
        status: 'sealed',
        keyring: 'uninitialized',
      }),
    });
    await renderDeployments(<DeploymentsStatusBanner />, { api });
    expect(
      await screen.findByText(/Deployments are not set up yet/),
    ).toBeInTheDocument();
    expect(screen.queryByText(/keyring is sealed/)).toBeNull();
    expect(screen.getByText(/to bootstrap one/)).toBeInTheDocument();
  });

  it('names unreachable targets and failed or pending releases', async () => {
    const api = fakeDeploymentsApi({
      getHealthSummary: async () => ({
        ...healthyHealth,
        status: 'degraded',
        targets: {
          total: 2,
          unreachable: [
            {
              name: 'prod-eu',
              error: 'connect ECONNREFUSED',
              checkedAt: '2026-11-23T12:00:00Z',
            },
          ],
        },
        releases: {
          failed: [
            {
              planId: 'p1',
              entityRef: 'component:default/payments-api',
              target: 'prod-eu',
              namespace: 'team-a',
              releaseName: 'payments',
              status: 'failed',
              message: 'pods not ready',
              since: '2026-11-23T11:00:00Z',
            },
          ],
          pending: [
            {
              planId: 'p2',
              entityRef: 'component:default/storefront-web',
              target: 'local-admin',
              namespace: 'team-b',
              releaseName: 'storefront',
              status: 'interrupted',
              since: '2026-11-23T11:30:00Z',
            },
          ],
        },
      }),
    });
    await renderDeployments(<DeploymentsStatusBanner />, { api });
    expect(
      await screen.findByText(
        'Warning: 1 target unreachable (prod-eu), 1 release failed (payments), 1 release pending (storefront)',
      ),
    ).toBeInTheDocument();
    // Each release links to the plan it is about.
    const links = screen.getAllByTestId('banner-plan-link');
    expect(links.map(link => link.getAttribute('href'))).toEqual([
      '/catalog/default/component/payments-api/deployments?plan=p1',
      '/catalog/default/component/storefront-web/deployments?plan=p2',
    ]);
    expect(links[0]).toHaveTextContent(/^Failed: payments in prod-eu\/team-a/);
  });

  it('says all is healthy in one unobtrusive line, or nothing', async () => {
    const api = fakeDeploymentsApi();
    const { rendered } = await renderDeployments(<DeploymentsStatusBanner />, {
      api,
    });
    expect(
      await screen.findByText(/All deployments healthy/),
    ).toBeInTheDocument();
    rendered.unmount();

    await renderDeployments(<DeploymentsStatusBanner hideWhenHealthy />, {
      api,
    });
    await waitFor(() => expect(api.getHealthSummary).toHaveBeenCalledTimes(2));
    expect(screen.queryByTestId('deployments-status-banner')).toBeNull();
  });

  it('shows nothing alarming when the backend has no health summary', async () => {
    const api = fakeDeploymentsApi({
      getHealthSummary: async () => {
        throw responseError(404, 'NotFoundError', 'Not found');
      },
    });
    await renderDeployments(<DeploymentsStatusBanner />, { api });
    await waitFor(() => expect(api.getHealthSummary).toHaveBeenCalled());
    expect(screen.queryByTestId('deployments-status-banner')).toBeNull();
  });

  it('refreshes on its interval', async () => {
    let calls = 0;
    const api = fakeDeploymentsApi({
      getHealthSummary: async () => {
        calls++;
        return calls === 1
          ? healthyHealth
          : { ...healthyHealth, status: 'sealed', keyring: 'sealed' };
      },
    });
    await renderDeployments(
      <DeploymentsStatusBanner refreshIntervalMs={50} />,
      { api },
    );
    expect(
      await screen.findByText(/The deployments keyring is sealed/),
    ).toBeInTheDocument();
  });
});
