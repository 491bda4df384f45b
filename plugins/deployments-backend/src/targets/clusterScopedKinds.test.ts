/*
 * validateClusterScopedKind against what the local kube-apiserver's discovery
 * says: the core group's cluster-scoped kinds are exactly the bare forms it
 * accepts, every served cluster-scoped kind is accepted as group/Kind, and a
 * bare built-in kind of another group is refused naming its real group.
 */
import { ClusterConnection } from '../cluster/ClusterConnection';
import { ClusterDiscovery } from '../cluster/ClusterDiscovery';
import { adminAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack } from '../__testUtils__/localStack';
import {
  CORE_CLUSTER_SCOPED_KINDS,
  validateClusterScopedKind,
} from './namespaceBoundary';

jest.setTimeout(60_000);

describe('cluster-scoped kinds against discovery', () => {
  const stack = requireLocalStack();
  let clusterScoped: Array<{ group: string; kind: string }>;

  beforeAll(async () => {
    const discovery = await ClusterDiscovery.create({
      connection: ClusterConnection.fromAccess(adminAccess(stack)),
    });
    const unique = new Map<string, { group: string; kind: string }>();
    for (const resource of discovery.resources) {
      if (!resource.namespaced) {
        unique.set(`${resource.group}/${resource.kind}`, {
          group: resource.group,
          kind: resource.kind,
        });
      }
    }
    clusterScoped = [...unique.values()];
  });

  it('knows exactly the core group cluster-scoped kinds', () => {
    const core = clusterScoped
      .filter(({ group }) => group === '')
      .map(({ kind }) => kind)
      .sort();
    expect(core).toEqual([...CORE_CLUSTER_SCOPED_KINDS].sort());
    for (const kind of core) {
      expect(validateClusterScopedKind(kind)).toBeUndefined();
    }
  });

  it('accepts every other served cluster-scoped kind as group/Kind, and refuses it bare with its group', () => {
    const others = clusterScoped.filter(({ group }) => group !== '');
    expect(others.length).toBeGreaterThan(10);
    for (const { group, kind } of others) {
      expect({
        entry: `${group}/${kind}`,
        problem: validateClusterScopedKind(`${group}/${kind}`),
      }).toEqual({ entry: `${group}/${kind}`, problem: undefined });
      expect(validateClusterScopedKind(kind)).toBe(
        `"${kind}" is not a core kind; write it as group/Kind, e.g. ${group}/${kind}`,
      );
    }
  });
});
