import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  fakeDeploymentsApi,
  responseError,
  teamATarget,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { TargetsPage } from './TargetsPage';

function type(element: HTMLElement, value: string) {
  fireEvent.change(element, { target: { value } });
}

describe('TargetsPage', () => {
  it('lists targets with the credentials fingerprint only', async () => {
    await renderDeployments(<TargetsPage />, { api: fakeDeploymentsApi() });
    expect(await screen.findByText('local-team-a')).toBeInTheDocument();
    expect(
      screen.getByText('hmac-sha256:0123456789abcdef'),
    ).toBeInTheDocument();
    expect(screen.getByText('team-a')).toBeInTheDocument();
    expect(screen.getByText('group:default/payments')).toBeInTheDocument();
  });

  it('registers a token target and shows the API error in the dialog', async () => {
    const api = fakeDeploymentsApi({
      createTarget: jest
        .fn()
        .mockRejectedValueOnce(
          responseError(
            400,
            'InputError',
            'A CA bundle is required to verify the API server (or explicitly allow insecure TLS on the target)',
          ),
        )
        .mockResolvedValueOnce({ ...teamATarget, name: 'staging' }),
    });
    const { alertApi } = await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Register target' }),
    );
    const dialog = await screen.findByRole('dialog');
    type(within(dialog).getByTestId('target-name'), 'staging');
    type(within(dialog).getByTestId('token'), 'secret-token-value');
    type(
      within(dialog).getByTestId('api-server-url'),
      'https://staging.example.com:6443',
    );
    type(within(dialog).getByTestId('allowed-namespaces'), 'team-a, team-b-*');
    expect(within(dialog).getByTestId('token')).toHaveAttribute(
      'type',
      'password',
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'A CA bundle is required',
    );

    type(
      within(dialog).getByTestId('ca-data'),
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.createTarget).toHaveBeenLastCalledWith(
      expect.objectContaining({
        name: 'staging',
        credentials: { authKind: 'token', token: 'secret-token-value' },
        apiServerUrl: 'https://staging.example.com:6443',
        allowedNamespaces: ['team-a', 'team-b-*'],
      }),
    );
    expect(api.createTarget.mock.calls[1][0]).toMatchObject({
      production: false,
      requireApproval: false,
      namespaceOwners: [],
    });
    expect(api.createTarget.mock.calls[1][0]).not.toHaveProperty(
      'changeWindows',
    );
    expect(alertApi.getAlerts().map(a => a.message)).toContain(
      'Target staging registered. Run a connection test.',
    );
  });

  it('offers kubeconfig and in-cluster authentication', async () => {
    const api = fakeDeploymentsApi({
      createTarget: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Register target' }),
    );
    const dialog = await screen.findByRole('dialog');
    type(within(dialog).getByTestId('target-name'), 'in-pod');
    fireEvent.click(within(dialog).getByLabelText('Kubeconfig'));
    expect(within(dialog).getByTestId('kubeconfig')).toBeInTheDocument();
    expect(within(dialog).queryByTestId('api-server-url')).toBeNull();

    fireEvent.click(within(dialog).getByLabelText('In-cluster ServiceAccount'));
    expect(within(dialog).queryByTestId('kubeconfig')).toBeNull();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(api.createTarget).toHaveBeenCalledWith(
        expect.objectContaining({
          name: 'in-pod',
          credentials: { authKind: 'inCluster' },
        }),
      ),
    );
  });

  it('edits the allowlist against the revision it showed', async () => {
    const api = fakeDeploymentsApi({
      updateTarget: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Edit local-team-a' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('allowed-namespaces')).toHaveValue(
      'team-a',
    );
    type(within(dialog).getByTestId('allowed-namespaces'), 'team-a team-c');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(api.updateTarget).toHaveBeenCalledWith(
        'local-team-a',
        expect.objectContaining({
          allowedNamespaces: ['team-a', 'team-c'],
          expectedRevision: 3,
        }),
      ),
    );
    expect(api.updateTarget.mock.calls[0][1].credentials).toBeUndefined();
  });

  it('asks for the credential again when the API server changes, and sends it with the settings', async () => {
    const api = fakeDeploymentsApi({
      updateTarget: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Edit local-team-a' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).queryByTestId('token')).not.toBeInTheDocument();
    type(
      within(dialog).getByTestId('api-server-url'),
      'https://other.example.com:6443',
    );
    expect(
      within(dialog).getByText(/enter the credential again/),
    ).toBeInTheDocument();
    const save = within(dialog).getByRole('button', { name: 'Save' });
    expect(save).toBeDisabled();
    type(within(dialog).getByTestId('token'), 'new-token');
    fireEvent.click(save);
    await waitFor(() =>
      expect(api.updateTarget).toHaveBeenCalledWith(
        'local-team-a',
        expect.objectContaining({
          apiServerUrl: 'https://other.example.com:6443',
          credentials: { authKind: 'token', token: 'new-token' },
        }),
      ),
    );
  });

  it('shows stored settings that are refused today, and saves the other-namespaces setting', async () => {
    const warning =
      'allowed cluster-scoped kinds: "ClusterRole" is not a core kind; write it as group/Kind, e.g. rbac.authorization.k8s.io/ClusterRole; it matches nothing';
    const api = fakeDeploymentsApi({
      listTargets: jest.fn().mockResolvedValue({
        items: [
          {
            ...teamATarget,
            allowedClusterScopedKinds: ['ClusterRole'],
            warnings: [warning],
          },
        ],
        totalCount: 1,
      }),
      updateTarget: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Edit local-team-a' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(warning)).toBeInTheDocument();
    const checkbox = within(dialog).getByRole('checkbox', {
      name: /Allow objects in other allowed namespaces/,
    });
    expect(checkbox).not.toBeChecked();
    fireEvent.click(checkbox);
    type(
      within(dialog).getByTestId('allowed-cluster-scoped-kinds'),
      'rbac.authorization.k8s.io/ClusterRole',
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(api.updateTarget).toHaveBeenCalledWith(
        'local-team-a',
        expect.objectContaining({
          allowedClusterScopedKinds: ['rbac.authorization.k8s.io/ClusterRole'],
          allowObjectsInOtherAllowedNamespaces: true,
        }),
      ),
    );
  });

  it('marks production targets and those under change control', async () => {
    await renderDeployments(<TargetsPage />, {
      api: fakeDeploymentsApi({
        listTargets: async () => ({
          items: [
            {
              ...teamATarget,
              production: true,
              requireApproval: true,
              changeWindows: { timeZone: 'UTC', windows: [], freezes: [] },
            },
          ],
          totalCount: 1,
        }),
      }),
    });
    expect(await screen.findByTestId('production-chip')).toHaveTextContent(
      'Production',
    );
    expect(
      screen.getByText('approval required · change windows'),
    ).toBeInTheDocument();
  });

  it('sends production, approval, namespace owners and change windows, and shows a 400', async () => {
    const api = fakeDeploymentsApi({
      updateTarget: jest
        .fn()
        .mockRejectedValueOnce(
          responseError(
            400,
            'InputError',
            'changeWindows.timeZone: "Mars/Olympus" is not an IANA time zone',
          ),
        )
        .mockResolvedValueOnce(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Edit local-team-a' }),
    );
    const dialog = within(await screen.findByRole('dialog'));
    // The stored owners are shown as rows.
    expect(dialog.getAllByTestId('namespace-owner-namespace')[0]).toHaveValue(
      'team-a',
    );
    expect(dialog.getAllByTestId('namespace-owner-owners')[0]).toHaveValue(
      'group:default/payments',
    );

    fireEvent.click(dialog.getByRole('checkbox', { name: 'Production' }));
    fireEvent.click(dialog.getByRole('checkbox', { name: 'Require approval' }));
    fireEvent.click(
      dialog.getByRole('button', { name: 'Add namespace owners' }),
    );
    type(dialog.getAllByTestId('namespace-owner-namespace')[1], 'team-b-*');
    type(
      dialog.getAllByTestId('namespace-owner-owners')[1],
      'group:default/team-b, user:default/alice',
    );

    expect(dialog.queryByTestId('change-window-time-zone')).toBeNull();
    fireEvent.click(
      dialog.getByRole('checkbox', { name: 'Limit changes to change windows' }),
    );
    type(dialog.getByTestId('change-window-time-zone'), 'Mars/Olympus');
    fireEvent.click(dialog.getByRole('button', { name: 'Add window' }));
    type(dialog.getByTestId('change-window-cron'), '0 9 * * 1-4');
    type(dialog.getByTestId('change-window-duration'), '240');
    fireEvent.click(dialog.getByRole('button', { name: 'Add freeze' }));
    type(dialog.getByTestId('freeze-start'), '2026-12-22T00:00:00Z');
    type(dialog.getByTestId('freeze-end'), '2027-01-02T00:00:00Z');
    type(dialog.getByTestId('freeze-reason'), 'Year-end freeze');

    fireEvent.click(dialog.getByRole('button', { name: 'Save' }));
    expect(await dialog.findByRole('alert')).toHaveTextContent(
      '"Mars/Olympus" is not an IANA time zone',
    );
    expect(screen.getByRole('dialog')).toBeInTheDocument();

    type(dialog.getByTestId('change-window-time-zone'), 'Europe/Berlin');
    fireEvent.click(dialog.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.updateTarget).toHaveBeenLastCalledWith(
      'local-team-a',
      expect.objectContaining({
        expectedRevision: 3,
        production: true,
        requireApproval: true,
        namespaceOwners: [
          { namespace: 'team-a', owners: ['group:default/payments'] },
          {
            namespace: 'team-b-*',
            owners: ['group:default/team-b', 'user:default/alice'],
          },
        ],
        changeWindows: {
          timeZone: 'Europe/Berlin',
          windows: [{ cron: '0 9 * * 1-4', durationMinutes: 240 }],
          freezes: [
            {
              start: '2026-12-22T00:00:00Z',
              end: '2027-01-02T00:00:00Z',
              reason: 'Year-end freeze',
            },
          ],
        },
      }),
    );
  });

  it('refuses a cron expression without 5 fields before sending', async () => {
    const api = fakeDeploymentsApi({
      updateTarget: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Edit local-team-a' }),
    );
    const dialog = within(await screen.findByRole('dialog'));
    fireEvent.click(
      dialog.getByRole('checkbox', { name: 'Limit changes to change windows' }),
    );
    fireEvent.click(dialog.getByRole('button', { name: 'Add window' }));
    type(dialog.getByTestId('change-window-cron'), '0 9 * *');
    fireEvent.click(dialog.getByRole('button', { name: 'Save' }));
    expect(await dialog.findByRole('alert')).toHaveTextContent(
      'a cron expression has 5 fields',
    );
    expect(api.updateTarget).not.toHaveBeenCalled();
  });

  it('removes the change windows of a target with null', async () => {
    const api = fakeDeploymentsApi({
      listTargets: async () => ({
        items: [
          {
            ...teamATarget,
            changeWindows: {
              timeZone: 'UTC',
              windows: [{ cron: '0 9 * * *', durationMinutes: 60 }],
              freezes: [],
            },
          },
        ],
        totalCount: 1,
      }),
      updateTarget: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Edit local-team-a' }),
    );
    const dialog = within(await screen.findByRole('dialog'));
    expect(dialog.getByTestId('change-window-cron')).toHaveValue('0 9 * * *');
    const limit = dialog.getByRole('checkbox', {
      name: 'Limit changes to change windows',
    });
    expect(limit).toBeChecked();
    fireEvent.click(limit);
    fireEvent.click(dialog.getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(api.updateTarget).toHaveBeenCalledWith(
        'local-team-a',
        expect.objectContaining({ changeWindows: null }),
      ),
    );
  });

  it('replaces credentials without ever showing the old ones', async () => {
    const api = fakeDeploymentsApi({
      replaceTargetCredentials: jest.fn().mockResolvedValue(teamATarget),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Replace credentials of local-team-a',
      }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByTestId('token')).toHaveValue('');
    type(within(dialog).getByTestId('token'), 'new-token');
    fireEvent.click(
      within(dialog).getByRole('button', { name: 'Replace credentials' }),
    );
    await waitFor(() =>
      expect(api.replaceTargetCredentials).toHaveBeenCalledWith(
        'local-team-a',
        { authKind: 'token', token: 'new-token' },
      ),
    );
  });

  it('runs a connection test and shows version, latency and RBAC', async () => {
    const api = fakeDeploymentsApi({
      testTargetConnection: async () => ({
        reachable: true,
        serverVersion: 'v1.36.3',
        latencyMs: 12.4,
        summary: 'May deploy to 1 of 1 allowed namespaces',
        rbac: [
          {
            namespace: 'team-a',
            checks: [
              {
                verb: 'create',
                group: 'apps',
                resource: 'deployments',
                allowed: true,
              },
            ],
          },
        ],
      }),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Test connection of local-team-a',
      }),
    );
    const result = await screen.findByTestId('connection-test-result');
    expect(
      await within(result).findByText(/May deploy to 1 of 1/),
    ).toBeInTheDocument();
    expect(within(result).getByText('v1.36.3')).toBeInTheDocument();
    expect(within(result).getByText('12 ms')).toBeInTheDocument();
    expect(
      within(result).getByText('create deployments.apps'),
    ).toBeInTheDocument();
  });

  it('deletes only after the name is typed', async () => {
    const api = fakeDeploymentsApi({
      deleteTarget: jest.fn().mockResolvedValue(undefined),
    });
    await renderDeployments(<TargetsPage />, { api });
    fireEvent.click(
      await screen.findByRole('button', { name: 'Delete local-team-a' }),
    );
    const dialog = await screen.findByRole('dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Delete' });
    expect(confirm).toBeDisabled();
    type(within(dialog).getByLabelText('Confirmation'), 'local-team-a');
    fireEvent.click(confirm);
    await waitFor(() =>
      expect(api.deleteTarget).toHaveBeenCalledWith('local-team-a'),
    );
  });

  it('explains what a target is when there is none', async () => {
    await renderDeployments(<TargetsPage />, {
      api: fakeDeploymentsApi({
        listTargets: async () => ({ items: [], totalCount: 0 }),
      }),
    });
    expect(await screen.findByText('No targets yet')).toBeInTheDocument();
  });

  it('says what to check when the list fails', async () => {
    await renderDeployments(<TargetsPage />, {
      api: fakeDeploymentsApi({
        listTargets: async () => {
          throw new Error('connection refused');
        },
      }),
    });
    expect(
      await screen.findByText(/Could not list targets/),
    ).toBeInTheDocument();
  });
});
