import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { PlanPod, PlanResources } from '../../api/DeploymentsApi';
import {
  draftPlan,
  fakeDeploymentsApi,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanResourcesCard } from './PlanResourcesCard';
import { buildResourceTree } from './resourceTree';

const pod = (name: string, replicaSet: string, healthy = true): PlanPod => ({
  name,
  namespace: 'team-a',
  phase: healthy ? 'Running' : 'Pending',
  ready: healthy,
  restarts: 0,
  workloads: ['Deployment/hello'],
  owners: [`ReplicaSet/${replicaSet}`],
  health: { healthy, message: healthy ? 'running' : 'not scheduled' },
  containers: [
    {
      name: 'web',
      init: false,
      ready: healthy,
      restartCount: 0,
      state: healthy ? 'running' : 'waiting',
      hasPrevious: false,
    },
  ],
  events: [],
});

const object = (kind: string, name: string, apiVersion = 'v1') => ({
  apiVersion,
  kind,
  name,
  namespace: 'team-a',
  state: 'present' as const,
  health: { healthy: true, message: 'present' },
  conditions: [],
  events: [],
});

const resources: PlanResources = {
  installed: true,
  namespace: 'team-a',
  releaseName: 'hello',
  summary: { healthy: true, message: '2/2 replicas ready' },
  objects: [
    object('ConfigMap', 'hello'),
    object('Secret', 'hello'),
    object('Service', 'hello'),
    {
      ...object('Deployment', 'hello', 'apps/v1'),
      replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
    },
  ],
  replicaSets: [
    {
      name: 'hello-5f4c',
      owner: 'Deployment/hello',
      revision: 2,
      replicas: { desired: 2, ready: 2, updated: 2, available: 2 },
      health: { healthy: true, message: '2/2 replicas ready' },
      events: [],
    },
  ],
  pods: [pod('hello-5f4c-a', 'hello-5f4c'), pod('hello-5f4c-b', 'hello-5f4c')],
  warnings: [],
  fetchedAt: '2026-12-02T04:00:00Z',
};

describe('the resource tree', () => {
  it('nests Deployment → ReplicaSet → Pods by owner; the rest stands alone', () => {
    expect(
      buildResourceTree(resources).map(
        row => `${'  '.repeat(row.depth)}${row.kind}/${row.name}`,
      ),
    ).toEqual([
      'ConfigMap/hello',
      'Secret/hello',
      'Service/hello',
      'Deployment/hello',
      '  ReplicaSet/hello-5f4c',
      '    Pod/hello-5f4c-a',
      '    Pod/hello-5f4c-b',
    ]);
  });

  it('keeps a pod whose owner is not shown at the top', () => {
    const orphan = { ...pod('stray', 'gone'), owners: ['ReplicaSet/gone'] };
    const rows = buildResourceTree({ ...resources, pods: [orphan] });
    expect(rows[rows.length - 1]).toMatchObject({ name: 'stray', depth: 0 });
  });

  it('opens an object in a drawer with its conditions, events and YAML, and links each pod to its logs', async () => {
    const api = fakeDeploymentsApi({
      getPlanResourceObject: jest.fn(async (_id, query) => ({
        apiVersion: 'v1',
        kind: query.kind,
        name: query.name,
        namespace: 'team-a',
        yaml: 'apiVersion: v1\nkind: Secret\ndata:\n  apiToken: (hidden)\n',
        conditions: [],
        events: [
          {
            type: 'Normal',
            reason: 'Created',
            message: 'created by helm',
            count: 1,
          },
        ],
        owners: [],
      })),
    });
    await renderDeployments(
      <PlanResourcesCard
        planId={draftPlan.id}
        resources={resources}
        loading={false}
        onRefresh={() => {}}
      />,
      {
        api,
        initialRouteEntries: ['/catalog/default/component/hello/deployments'],
      },
    );
    const logs = await screen.findByRole('link', {
      name: 'Logs of hello-5f4c-a',
    });
    expect(logs).toHaveAttribute(
      'href',
      `/catalog/default/component/hello/logs?plan=${draftPlan.id}&pod=hello-5f4c-a&container=web`,
    );
    fireEvent.click(
      screen.getByRole('button', { name: 'Details of Secret hello' }),
    );
    const drawer = await screen.findByTestId('resource-drawer');
    await waitFor(() =>
      expect(within(drawer).getByTestId('resource-yaml')).toHaveTextContent(
        'apiToken: (hidden)',
      ),
    );
    expect(api.getPlanResourceObject).toHaveBeenCalledWith(draftPlan.id, {
      kind: 'Secret',
      name: 'hello',
      apiVersion: 'v1',
    });
    expect(within(drawer).getByText('created by helm')).toBeInTheDocument();
    expect(
      within(drawer).getByText('The object reports no conditions.'),
    ).toBeInTheDocument();
  });

  it('shows why the object could not be read', async () => {
    const api = fakeDeploymentsApi({
      getPlanResourceObject: async () => {
        throw new Error('Pod hello-5f4c-a is not an object of release hello');
      },
    });
    await renderDeployments(
      <PlanResourcesCard
        planId={draftPlan.id}
        resources={resources}
        loading={false}
        onRefresh={() => {}}
      />,
      { api },
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: 'Details of Pod hello-5f4c-a',
      }),
    );
    const drawer = await screen.findByTestId('resource-drawer');
    expect(
      (await within(drawer).findAllByText(/not an object of release hello/))
        .length,
    ).toBeGreaterThan(0);
    // A pod's drawer links its containers' logs.
    expect(
      within(drawer).getByTestId('resource-drawer-logs'),
    ).toHaveTextContent('web');
  });
});
