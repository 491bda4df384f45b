import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  fakeOperation,
  PAYMENTS_API_REF,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { OperationsPage } from './OperationsPage';

const apply = fakeOperation({
  id: 'op-apply',
  kind: 'apply',
  status: 'failed',
  entityRef: PAYMENTS_API_REF,
  result: undefined,
});
const orphan = fakeOperation({
  id: 'op-orphan',
  kind: 'uninstall',
  releaseName: 'old-release',
  result: undefined,
});

describe('OperationsPage', () => {
  it('lists operations with their component, filters them and pages by cursor', async () => {
    const api = fakeDeploymentsApi({
      listOperations: async query =>
        query?.after
          ? { items: [orphan] }
          : { items: [apply], nextCursor: 'cursor-1' },
    });
    await renderDeployments(<OperationsPage />, { api });

    const row = (await screen.findByText('failed')).closest('tr')!;
    // Readable words and relative times, not enum values and timestamps.
    expect(within(row).getByText('Apply')).toBeInTheDocument();
    expect(within(row).getByText(/ago$/)).toBeInTheDocument();
    expect(
      within(row).getByRole('link', { name: /payments-api/ }),
    ).toHaveAttribute('href', '/catalog/default/component/payments-api');
    expect(screen.getByRole('button', { name: 'Newer' })).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('plan deleted')).toBeInTheDocument();
    expect(api.listOperations).toHaveBeenLastCalledWith({
      after: 'cursor-1',
      limit: 25,
    });

    // A filter starts again from the newest page.
    fireEvent.mouseDown(
      screen.getAllByRole('button', { name: /Any status/ })[0],
    );
    fireEvent.click(await screen.findByRole('option', { name: 'Failed' }));
    await waitFor(() =>
      expect(api.listOperations).toHaveBeenLastCalledWith({
        status: 'failed',
        after: undefined,
        limit: 25,
      }),
    );
  });

  it('opens an operation with its progress lines when its row is clicked', async () => {
    const api = fakeDeploymentsApi({
      listOperations: async () => ({ items: [apply] }),
      getOperation: async () => ({ ...apply, error: 'the rollout timed out' }),
      listOperationLines: async () => ({
        items: [
          { seq: 1, at: apply.createdAt, text: 'upgrading payments-api' },
        ],
      }),
    });
    await renderDeployments(<OperationsPage />, { api });
    fireEvent.click(await screen.findByText('failed'));
    // In a drawer beside the table, with a link to the plan it ran on.
    const drawer = await screen.findByTestId('operation-drawer');
    expect(
      within(drawer).getByTestId('operation-progress'),
    ).toBeInTheDocument();
    expect(within(drawer).getByText(/Apply of/)).toBeInTheDocument();
    expect(
      within(drawer).getByRole('link', { name: 'Open the plan' }),
    ).toHaveAttribute(
      'href',
      `/catalog/default/component/payments-api/deployments?plan=${apply.planId}`,
    );
    expect(api.getOperation).toHaveBeenCalledWith('op-apply');
  });

  it('says where operations come from when there are none', async () => {
    const api = fakeDeploymentsApi();
    await renderDeployments(<OperationsPage />, { api });
    expect(await screen.findByText('No operations yet')).toBeInTheDocument();
  });
});
