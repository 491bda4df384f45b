import { fireEvent, screen, waitFor } from '@testing-library/react';
import { fakeDeploymentsApi } from '../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../__testUtils__/renderDeployments';
import { ChartsPage } from './ChartsPage';
import { KeyringPage } from './KeyringPage';
import { TargetsPage } from './TargetsPage';

// Its own file: usePermission caches answers (SWR) for the whole module, so
// a denying policy must not share a module with allowing ones.
describe('when the permission policy denies', () => {
  it('disables keyring actions, with the permission as the reason', async () => {
    await renderDeployments(<KeyringPage />, {
      api: fakeDeploymentsApi(),
      deny: true,
    });
    const seal = await screen.findByRole('button', { name: 'Seal' });
    await waitFor(() => expect(seal).toBeDisabled());
    fireEvent.mouseOver(seal.parentElement!);
    expect(
      await screen.findByText(
        /needs the deployments.keyring.manage permission/,
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Export backup' }),
    ).toBeDisabled();
  });

  it('disables target actions per target', async () => {
    await renderDeployments(<TargetsPage />, {
      api: fakeDeploymentsApi(),
      deny: true,
    });
    const remove = await screen.findByRole('button', {
      name: 'Delete local-team-a',
    });
    await waitFor(() => expect(remove).toBeDisabled());
    expect(
      screen.getByRole('button', { name: 'Register target' }),
    ).toBeDisabled();
  });

  it('disables registering and deleting charts, but not reading them', async () => {
    await renderDeployments(<ChartsPage />, {
      api: fakeDeploymentsApi(),
      deny: true,
    });
    const remove = await screen.findByRole('button', {
      name: 'Delete hello 0.1.0',
    });
    await waitFor(() => expect(remove).toBeDisabled());
    expect(
      screen.getByRole('button', { name: 'Details of hello 0.1.0' }),
    ).toBeEnabled();
  });
});
