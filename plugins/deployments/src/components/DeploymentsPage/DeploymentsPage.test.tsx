import { screen } from '@testing-library/react';
import { fakeDeploymentsApi } from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { DeploymentsPage } from './DeploymentsPage';

describe('DeploymentsPage (legacy frontend system)', () => {
  it('shows the tabs, the status banner and operations first', async () => {
    await renderDeployments(<DeploymentsPage />, { api: fakeDeploymentsApi() });
    const tabs = screen.getAllByRole('tab').map(tab => tab.textContent);
    expect(tabs[0]).toBe('Operations');
    for (const tab of ['Keyring', 'Targets', 'Charts', 'Audit trail']) {
      expect(screen.getByRole('tab', { name: tab })).toBeInTheDocument();
    }
    expect(await screen.findByText('No operations yet')).toBeInTheDocument();
    expect(
      await screen.findByText(/All deployments healthy/),
    ).toBeInTheDocument();
  });
});
