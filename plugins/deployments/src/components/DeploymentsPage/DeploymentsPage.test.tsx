import { screen } from '@testing-library/react';
import { fakeDeploymentsApi } from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { DeploymentsPage } from './DeploymentsPage';

describe('DeploymentsPage (legacy frontend system)', () => {
  it('shows the tabs, the status banner and the keyring first', async () => {
    await renderDeployments(<DeploymentsPage />, { api: fakeDeploymentsApi() });
    for (const tab of ['Keyring', 'Targets', 'Charts', 'Audit trail']) {
      expect(screen.getByRole('tab', { name: tab })).toBeInTheDocument();
    }
    expect(await screen.findByTestId('keyring-state')).toHaveTextContent(
      'unlocked',
    );
    expect(
      await screen.findByText(/All deployments healthy/),
    ).toBeInTheDocument();
  });
});
