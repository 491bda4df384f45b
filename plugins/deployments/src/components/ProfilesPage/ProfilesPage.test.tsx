import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  helloChart,
  helloProfile,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { ProfilesPage } from './ProfilesPage';

describe('ProfilesPage', () => {
  it('lists profiles with their chart, owner, revision and secrets shown as set', async () => {
    await renderDeployments(<ProfilesPage />, {
      api: fakeDeploymentsApi({
        listProfiles: async () => ({
          items: [
            helloProfile,
            {
              ...helloProfile,
              id: 'unowned',
              name: 'shared',
              owner: undefined,
            },
          ],
          totalCount: 2,
        }),
      }),
    });
    const owned = (await screen.findByText('payments-dev')).closest('tr')!;
    expect(
      within(owned).getByText('group:default/payments'),
    ).toBeInTheDocument();
    expect(
      within(screen.getByText('shared').closest('tr')!).getByText('—'),
    ).toBeInTheDocument();
    expect(screen.getAllByText('hello 0.1.0').length).toBeGreaterThan(0);
    expect(screen.getAllByText('/apiToken: set').length).toBe(2);
  });

  it('filters by chart and creates a profile for the chosen chart', async () => {
    const api = fakeDeploymentsApi();
    await renderDeployments(<ProfilesPage />, { api });
    const create = await screen.findByRole('button', { name: 'New profile' });
    await screen.findByRole('option', { name: 'hello 0.1.0' });
    expect(create).toBeDisabled();
    fireEvent.change(screen.getByTestId('profiles-chart'), {
      target: { value: helloChart.id },
    });
    await waitFor(() =>
      expect(api.listProfiles).toHaveBeenLastCalledWith(
        expect.objectContaining({ chartId: helloChart.id }),
      ),
    );
    await waitFor(() => expect(create).toBeEnabled());
    fireEvent.click(create);
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('New values profile for hello 0.1.0');
  });

  it('shows the revisions of a profile with the change of each', async () => {
    const api = fakeDeploymentsApi();
    await renderDeployments(<ProfilesPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Revisions of payments-dev' }),
    );
    const dialog = await screen.findByRole('dialog');
    const diff = await within(dialog).findByTestId('revision-diff');
    expect(api.getProfileRevision).toHaveBeenCalledWith(helloProfile.id, 1);
    expect(diff).toHaveTextContent('-replicaCount: 1');
    expect(diff).toHaveTextContent('+replicaCount: 2');
    expect(diff).toHaveTextContent('apiToken: (secret, set)');
    // Each revision names the chart version it is for.
    await waitFor(() =>
      expect(within(dialog).getAllByText('hello 0.1.0').length).toBeGreaterThan(
        0,
      ),
    );
  });

  it('deletes a profile after confirming', async () => {
    const api = fakeDeploymentsApi();
    await renderDeployments(<ProfilesPage />, { api });
    const remove = await screen.findByRole('button', {
      name: 'Delete payments-dev',
    });
    await waitFor(() => expect(remove).toBeEnabled());
    fireEvent.click(remove);
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(api.deleteProfile).toHaveBeenCalledWith(helloProfile.id),
    );
  });

  it('upgrades a profile to another chart version, showing dropped and added keys first', async () => {
    const next = { ...helloChart, id: 'hello-0.2.0', version: '0.2.0' };
    const api = fakeDeploymentsApi({
      listCharts: async () => ({ items: [helloChart, next], totalCount: 2 }),
    });
    await renderDeployments(<ProfilesPage />, { api });
    const upgrade = await screen.findByRole('button', {
      name: 'Upgrade payments-dev to another chart version',
    });
    await waitFor(() => expect(upgrade).toBeEnabled());
    fireEvent.click(upgrade);
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Upgrade payments-dev from hello 0.1.0');
    expect(
      await within(dialog).findByTestId('upgrade-dropped'),
    ).toHaveTextContent('/debug');
    expect(within(dialog).getByTestId('upgrade-added')).toHaveTextContent(
      '/tracing',
    );
    expect(dialog).toHaveTextContent('carried over sealed');
    expect(api.upgradeProfile).toHaveBeenCalledWith(helloProfile.id, {
      chartId: next.id,
      expectedRevision: helloProfile.revision,
      dryRun: true,
    });
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Upgrade to 0.2.0' }),
    );
    await waitFor(() =>
      expect(api.upgradeProfile).toHaveBeenLastCalledWith(helloProfile.id, {
        chartId: next.id,
        expectedRevision: helloProfile.revision,
      }),
    );
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it('lists every violation and does not offer the upgrade when the values do not fit', async () => {
    const next = { ...helloChart, id: 'hello-0.2.0', version: '0.2.0' };
    const api = fakeDeploymentsApi({
      listCharts: async () => ({ items: [helloChart, next], totalCount: 2 }),
      upgradeProfile: async (_id, input) => ({
        report: {
          fromChartId: helloChart.id,
          fromVersion: '0.1.0',
          toChartId: input.chartId,
          toVersion: '0.2.0',
          droppedKeys: ['/debug'],
          droppedProfileKeys: ['/debug'],
          addedKeys: [],
          violations: [
            { path: '/replicaCount', message: 'must be <= 3' },
            { path: '', message: 'must NOT have additional properties' },
          ],
          secretPaths: [],
        },
      }),
    });
    await renderDeployments(<ProfilesPage />, { api });
    const upgrade = await screen.findByRole('button', {
      name: 'Upgrade payments-dev to another chart version',
    });
    await waitFor(() => expect(upgrade).toBeEnabled());
    fireEvent.click(upgrade);
    const dialog = await screen.findByRole('dialog');
    const violations = await within(dialog).findByTestId('upgrade-violations');
    expect(violations).toHaveTextContent('/replicaCount must be <= 3');
    expect(violations).toHaveTextContent(
      '/ must NOT have additional properties',
    );
    expect(dialog).toHaveTextContent(
      'This profile sets keys the new version no longer has: /debug',
    );
    expect(
      within(dialog).getByRole('button', { name: 'Upgrade to 0.2.0' }),
    ).toBeDisabled();
  });

  it('offers no upgrade when no other version of the chart is registered', async () => {
    await renderDeployments(<ProfilesPage />, { api: fakeDeploymentsApi() });
    const upgrade = await screen.findByRole('button', {
      name: 'Upgrade payments-dev to another chart version',
    });
    await waitFor(() => expect(upgrade).toBeDisabled());
  });
});
