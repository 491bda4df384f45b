import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  helloChart,
  responseError,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { ChartsPage } from './ChartsPage';

function type(element: HTMLElement, value: string) {
  fireEvent.change(element, { target: { value } });
}

describe('ChartsPage', () => {
  it('lists charts with a shortened digest, schema and registration', async () => {
    await renderDeployments(<ChartsPage />, { api: fakeDeploymentsApi() });
    expect(await screen.findByText('hello')).toBeInTheDocument();
    expect(screen.getByText('sha256:9b2f3c4d5e6f…')).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Copy the digest of hello 0.1.0' }),
    ).toBeInTheDocument();
    expect(screen.getByText('yes')).toBeInTheDocument();
    expect(screen.getByText('user:default/guest')).toBeInTheDocument();
  });

  it('registers a version picked from the listed tags', async () => {
    const api = fakeDeploymentsApi({
      listChartVersions: async () => ({
        versions: ['0.1.0', '0.10.0', '0.2.0'],
      }),
      registerChart: jest.fn().mockResolvedValue({
        chart: { ...helloChart, version: '0.10.0' },
        created: true,
      }),
    });
    const { alertApi } = await renderDeployments(<ChartsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Register chart' }),
    );
    const dialog = await screen.findByRole('dialog');
    type(
      within(dialog).getByTestId('chart-reference'),
      'oci://127.0.0.1:15000/charts/hello',
    );
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'List versions' }),
    );
    const chips = await within(dialog).findAllByRole('button', {
      name: /^0\./,
    });
    // Newest first, compared numerically.
    expect(chips.map(c => c.textContent)).toEqual(['0.10.0', '0.2.0', '0.1.0']);
    fireEvent.click(chips[0]);
    expect(within(dialog).getByTestId('chart-version')).toHaveValue('0.10.0');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(api.registerChart).toHaveBeenCalledWith({
        reference: 'oci://127.0.0.1:15000/charts/hello',
        version: '0.10.0',
      }),
    );
    await waitFor(() =>
      expect(alertApi.getAlerts().map(a => a.message)).toContain(
        'Registered hello 0.10.0 (sha256:9b2f3c4d5e6f…).',
      ),
    );
  });

  it('shows why a registration was refused', async () => {
    const api = fakeDeploymentsApi({
      registerChart: async () => {
        throw responseError(
          409,
          'ConflictError',
          'hello 0.1.0 is registered with another digest: the tag moved',
        );
      },
    });
    await renderDeployments(<ChartsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Register chart' }),
    );
    const dialog = await screen.findByRole('dialog');
    type(within(dialog).getByTestId('chart-reference'), 'registry/hello');
    expect(within(dialog).getByText(/Use an OCI reference/)).toBeVisible();
    type(
      within(dialog).getByTestId('chart-reference'),
      'oci://127.0.0.1:15000/charts/hello',
    );
    type(within(dialog).getByTestId('chart-version'), '0.1.0');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'the tag moved',
    );
  });

  it('shows the README, default values and schema', async () => {
    await renderDeployments(<ChartsPage />, { api: fakeDeploymentsApi() });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Details of hello 0.1.0' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(
      within(dialog).getByText(helloChart.chartDigest),
    ).toBeInTheDocument();
    fireEvent.click(within(dialog).getByRole('tab', { name: 'README' }));
    expect(await within(dialog).findByText('Says hello.')).toBeInTheDocument();
    fireEvent.click(
      within(dialog).getByRole('tab', { name: 'Default values' }),
    );
    await waitFor(() => expect(dialog).toHaveTextContent('replicaCount: 1'));
    fireEvent.click(within(dialog).getByRole('tab', { name: 'Values schema' }));
    await waitFor(() => expect(dialog).toHaveTextContent('"type": "integer"'));
  });

  it('deletes after confirmation and reports a refusal', async () => {
    const api = fakeDeploymentsApi({
      deleteChart: async () => {
        throw responseError(
          409,
          'ConflictError',
          'hello 0.1.0 is used by 2 plans',
        );
      },
    });
    const { alertApi } = await renderDeployments(<ChartsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Delete hello 0.1.0' }),
    );
    const dialog = await screen.findByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(alertApi.getAlerts().map(a => a.message)).toContain(
        'Could not delete hello 0.1.0: hello 0.1.0 is used by 2 plans',
      ),
    );
  });

  it('explains how to start when no chart is registered', async () => {
    await renderDeployments(<ChartsPage />, {
      api: fakeDeploymentsApi({
        listCharts: async () => ({ items: [], totalCount: 0 }),
      }),
    });
    expect(await screen.findByText('No charts registered')).toBeInTheDocument();
  });
});
