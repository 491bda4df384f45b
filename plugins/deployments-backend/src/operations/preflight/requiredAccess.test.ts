import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { requiredAccess } from './requiredAccess';

const discovery = ClusterDiscovery.fromResources([
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    resource: 'deployments',
    namespaced: true,
    verbs: [],
  },
  {
    group: '',
    version: 'v1',
    kind: 'Secret',
    resource: 'secrets',
    namespaced: true,
    verbs: [],
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    resource: 'clusterroles',
    namespaced: false,
    verbs: [],
  },
]);

const object = (apiVersion: string, kind: string, namespace?: string) => ({
  object: {
    apiVersion,
    kind,
    metadata: { name: 'x', ...(namespace && { namespace }) },
  },
});

const summary = (
  access: ReturnType<typeof requiredAccess>,
): Record<string, string[]> => {
  const result: Record<string, string[]> = {};
  for (const { group, resource, verb, namespace, clusterScoped } of access) {
    const key = `${group}/${resource} ${
      clusterScoped ? '(cluster)' : namespace
    }`;
    result[key] = [...(result[key] ?? []), verb];
  }
  return result;
};

describe('requiredAccess', () => {
  it("always asks for helm's release storage", () => {
    expect(
      summary(
        requiredAccess({ objects: [], discovery, releaseNamespace: 'team-a' }),
      ),
    ).toEqual({
      '/secrets team-a': ['get', 'list', 'create', 'update', 'patch', 'delete'],
    });
  });

  it('asks for every verb helm uses, per resource and namespace, without duplicates', () => {
    const access = requiredAccess({
      objects: [
        object('apps/v1', 'Deployment'),
        object('apps/v1', 'Deployment', 'team-a'),
        object('apps/v1', 'Deployment', 'kube-system'),
        object('v1', 'Secret'),
        object('rbac.authorization.k8s.io/v1', 'ClusterRole', 'ignored'),
        // Unknown kinds are the boundary check's to refuse.
        object('example.com/v1', 'Widget'),
        { object: { kind: 'Broken' } },
      ],
      discovery,
      releaseNamespace: 'team-a',
    });
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    expect(summary(access)).toEqual({
      '/secrets team-a': [
        'get',
        'list',
        'create',
        'update',
        'patch',
        'delete',
        'watch',
      ],
      'apps/deployments team-a': all,
      'apps/deployments kube-system': all,
      'rbac.authorization.k8s.io/clusterroles (cluster)': all,
    });
    expect(
      access.find(entry => entry.resource === 'clusterroles'),
    ).not.toHaveProperty('namespace');
  });
});
