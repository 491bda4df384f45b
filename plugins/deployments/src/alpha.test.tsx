import { mockApis, renderTestApp } from '@backstage/frontend-test-utils';
import { screen } from '@testing-library/react';
import { deploymentsApiRef } from './api/DeploymentsApi';
import plugin from './alpha';
import { fakeDeploymentsApi } from './__testUtils__/fakeDeploymentsApi';

describe('deployments plugin (new frontend system)', () => {
  it('mounts the page at /deployments with one tab per area', async () => {
    renderTestApp({
      features: [plugin],
      initialRouteEntries: ['/deployments/targets'],
      apis: [[deploymentsApiRef, fakeDeploymentsApi()], mockApis.permission()],
    });
    expect(
      await screen.findByText('local-team-a', {}, { timeout: 30_000 }),
    ).toBeInTheDocument();
    for (const tab of ['Keyring', 'Targets', 'Charts', 'Audit trail']) {
      expect(screen.getAllByText(tab).length).toBeGreaterThan(0);
    }
    expect(
      await screen.findByText(/All deployments healthy/),
    ).toBeInTheDocument();
  });
  it('opens /deployments on Operations', async () => {
    renderTestApp({
      features: [plugin],
      initialRouteEntries: ['/deployments'],
      apis: [[deploymentsApiRef, fakeDeploymentsApi()], mockApis.permission()],
    });
    expect(
      await screen.findByText('No operations yet', {}, { timeout: 30_000 }),
    ).toBeInTheDocument();
  });
});
