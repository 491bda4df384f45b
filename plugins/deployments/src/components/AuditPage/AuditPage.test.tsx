import { fireEvent, screen, waitFor } from '@testing-library/react';
import { DeploymentsAuditEntry } from '../../api/DeploymentsApi';
import { fakeDeploymentsApi } from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { AuditPage } from './AuditPage';

function entries(from: number, count: number): DeploymentsAuditEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    id: from - i,
    occurredAt: '2026-11-23T12:00:00Z',
    actor: 'user:default/guest',
    eventId: 'target-create',
    subject: `target-${from - i}`,
    outcome: i === 0 ? 'denied' : 'succeeded',
  }));
}

describe('AuditPage', () => {
  it('pages backwards by entry id and forwards again', async () => {
    const api = fakeDeploymentsApi({
      listAuditEntries: async query =>
        query?.before
          ? { items: entries(query.before - 1, 3) }
          : { items: entries(100, 51) },
    });
    await renderDeployments(<AuditPage />, { api });
    expect(await screen.findByText('target-100')).toBeInTheDocument();
    expect(screen.getByText('denied')).toBeInTheDocument();
    // 50 shown; the 51st only says an older page exists.
    expect(screen.queryByText('target-50')).toBeNull();
    expect(screen.getByRole('button', { name: 'Newer' })).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('target-50')).toBeInTheDocument();
    expect(api.listAuditEntries).toHaveBeenLastCalledWith({
      before: 51,
      limit: 51,
    });
    expect(screen.getByRole('button', { name: 'Older' })).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Newer' }));
    expect(await screen.findByText('target-100')).toBeInTheDocument();
  });

  it('shows events as readable rows, with their details on demand', async () => {
    const api = fakeDeploymentsApi({
      listAuditEntries: async () => ({
        items: [
          {
            id: 7,
            occurredAt: new Date(Date.now() - 5 * 60_000).toISOString(),
            actor: 'user:default/guest',
            eventId: 'plan-apply',
            subject: '9c3e0c43-0000-4000-8000-000000000003',
            outcome: 'succeeded',
            meta: {
              releaseName: 'payments-api',
              target: 'prod',
              namespaces: ['team-a', 'team-b'],
            },
          },
        ],
      }),
    });
    await renderDeployments(<AuditPage />, { api });
    expect(await screen.findByText('Apply started')).toBeInTheDocument();
    expect(screen.getByText('5 minutes ago')).toBeInTheDocument();
    // The release, not the plan's id; no raw JSON.
    expect(screen.getByText('payments-api')).toBeInTheDocument();
    expect(screen.queryByText(/\{"releaseName"/)).toBeNull();
    expect(screen.queryByTestId('audit-details')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Details (3)' }));
    const details = await screen.findByTestId('audit-details');
    expect(details).toHaveTextContent('targetprod');
    expect(details).toHaveTextContent('namespacesteam-a, team-b');
    fireEvent.click(screen.getByRole('button', { name: 'Hide details' }));
    await waitFor(() =>
      expect(screen.queryByTestId('audit-details')).toBeNull(),
    );
  });

  it('passes the filters the API offers', async () => {
    const api = fakeDeploymentsApi({
      listAuditEntries: async () => ({ items: [] }),
    });
    await renderDeployments(<AuditPage />, { api });
    expect(await screen.findByText('No audit entries yet')).toBeInTheDocument();
    fireEvent.change(screen.getByPlaceholderText('user:default/guest'), {
      target: { value: ' user:default/alice ' },
    });
    fireEvent.change(screen.getByPlaceholderText('target-create'), {
      target: { value: 'keyring-unlock' },
    });
    fireEvent.change(screen.getByPlaceholderText('local-team-a'), {
      target: { value: 'local-admin' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() =>
      expect(api.listAuditEntries).toHaveBeenLastCalledWith({
        actor: 'user:default/alice',
        eventId: 'keyring-unlock',
        subject: 'local-admin',
        outcome: undefined,
        before: undefined,
        limit: 51,
      }),
    );
    expect(
      await screen.findByText('No entries match these filters'),
    ).toBeInTheDocument();
  });

  it('names the permission when the trail cannot be read', async () => {
    await renderDeployments(<AuditPage />, {
      api: fakeDeploymentsApi({
        listAuditEntries: async () => {
          throw new Error('forbidden');
        },
      }),
    });
    expect(
      await screen.findByText(/deployments.audit.read permission/),
    ).toBeInTheDocument();
  });
});
