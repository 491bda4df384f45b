import { screen } from '@testing-library/react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { KeyringStatus, Target } from '@kubedeploy/plugin-deployments-common';
import { DeploymentsApi, deploymentsApiRef } from '../../api/DeploymentsApi';
import { DeploymentsPage } from './DeploymentsPage';

const target: Target = {
  name: 'local-team-a',
  displayName: 'Local cluster (team-a)',
  apiServerUrl: 'https://127.0.0.1:16443',
  authKind: 'token',
  credentials: { set: true, fingerprint: 'hmac-sha256:0123456789abcdef' },
  allowedNamespaces: ['team-a'],
  allowedClusterScopedKinds: [],
  allowInsecureTls: false,
  revision: 1,
  createdAt: '2026-11-23T00:00:00Z',
  createdBy: 'user:default/guest',
  updatedAt: '2026-11-23T00:00:00Z',
  updatedBy: 'user:default/guest',
};

function api(overrides: Partial<DeploymentsApi>): DeploymentsApi {
  return {
    getLiveness: async () => ({ status: 'ok' }),
    getKeyringStatus: async (): Promise<KeyringStatus> => ({
      state: 'unlocked',
      fingerprint: 'abcdef0123456789',
      dataKeyCount: 1,
    }),
    listTargets: async () => ({ items: [target], totalCount: 1 }),
    ...overrides,
  };
}

async function render(deployments: DeploymentsApi) {
  await renderInTestApp(
    <TestApiProvider apis={[[deploymentsApiRef, deployments]]}>
      <DeploymentsPage />
    </TestApiProvider>,
  );
}

describe('DeploymentsPage', () => {
  it('shows the keyring state and the targets with a fingerprint only', async () => {
    await render(api({}));
    expect(
      await screen.findByText(/Unlocked: credentials can be used/),
    ).toBeInTheDocument();
    expect(await screen.findByText('local-team-a')).toBeInTheDocument();
    expect(
      screen.getByText('hmac-sha256:0123456789abcdef'),
    ).toBeInTheDocument();
  });

  it('tells the user what to do when there is no keyring and no target', async () => {
    await render(
      api({
        getKeyringStatus: async () => ({
          state: 'uninitialized',
          dataKeyCount: 0,
        }),
        listTargets: async () => ({ items: [], totalCount: 0 }),
      }),
    );
    expect(
      await screen.findByText(/bootstrap one before registering targets/),
    ).toBeInTheDocument();
    expect(await screen.findByText(/No targets yet/)).toBeInTheDocument();
  });

  it('shows the error when the backend does not answer', async () => {
    await render(
      api({
        listTargets: async () => {
          throw new Error('connection refused');
        },
      }),
    );
    expect(
      await screen.findByText(/Could not list targets/),
    ).toBeInTheDocument();
  });
});
