/*
 * Runs against the real local cluster (scripts/stack).
 */
import { adminAccess, limitedAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack } from '../__testUtils__/localStack';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { ClusterDiscovery } from './ClusterDiscovery';

jest.setTimeout(60_000);

const stack = requireLocalStack();

describe('ClusterDiscovery', () => {
  it.each([
    ['aggregated discovery', true],
    ['per group-version discovery', false],
  ])('catalogs the served kinds through %s', async (_name, aggregated) => {
    const discovery = await ClusterDiscovery.create({
      connection: ClusterConnection.fromAccess(adminAccess(stack)),
      aggregated,
    });

    expect(discovery.resourceOf('apps', 'v1', 'Deployment')).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      resource: 'deployments',
      namespaced: true,
      verbs: expect.arrayContaining(['create', 'patch', 'delete', 'watch']),
    });
    expect(discovery.scopeOf('apps', 'v1', 'Deployment')).toBe('Namespaced');
    expect(discovery.scopeOf('', 'v1', 'ConfigMap')).toBe('Namespaced');
    expect(discovery.resourceOf('', 'v1', 'Service')?.resource).toBe(
      'services',
    );
    expect(
      discovery.scopeOf('rbac.authorization.k8s.io', 'v1', 'ClusterRole'),
    ).toBe('Cluster');
    expect(discovery.scopeOf('', 'v1', 'Namespace')).toBe('Cluster');
    expect(discovery.scopeOf('example.com', 'v1', 'Widget')).toBeUndefined();
    // A version the server does not serve is unknown, even for a known kind.
    expect(discovery.scopeOf('apps', 'v1beta1', 'Deployment')).toBeUndefined();
    // Subresources are not kinds of their own.
    expect(
      discovery.resources.some(resource => resource.resource.includes('/')),
    ).toBe(false);
    expect(discovery.failures).toEqual([]);
  });

  it('answers to credentials that may read discovery only', async () => {
    const discovery = await ClusterDiscovery.create({
      connection: ClusterConnection.fromAccess(limitedAccess(stack)),
    });
    expect(discovery.scopeOf('batch', 'v1', 'CronJob')).toBe('Namespaced');
  });

  it('keeps scopeOf usable as a detached function', async () => {
    const { scopeOf } = ClusterDiscovery.fromResources([
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        resource: 'deployments',
        namespaced: true,
        verbs: ['get'],
      },
    ]);
    expect(scopeOf('apps', 'v1', 'Deployment')).toBe('Namespaced');
    expect(scopeOf('apps', 'v1', 'StatefulSet')).toBeUndefined();
  });

  it('fails with a clear error when the server is unreachable', async () => {
    const connection = ClusterConnection.fromAccess({
      ...adminAccess(stack),
      server: 'https://127.0.0.1:1',
    });
    const error = await ClusterDiscovery.create({ connection }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClusterRequestError);
    expect((error as ClusterRequestError).kind).toBe('unreachable');
    expect((error as Error).message).toContain('127.0.0.1:1');
  });
});
