import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';

/** One permission a release needs, as a SelfSubjectAccessReview asks for it. */
export interface RequiredAccess {
  /** '' for the core group. */
  group: string;
  /** Plural resource name, e.g. 'deployments'. */
  resource: string;
  verb: string;
  /** Absent for cluster-scoped resources. */
  namespace?: string;
  clusterScoped: boolean;
}

/**
 * What `helm upgrade --install --wait` (with rollback on failure) does with
 * each object it manages:
 * - get: read the live object to compute the patch and to adopt it;
 * - create: objects new in this revision, and hooks;
 * - patch: change existing objects (three-way merge or server-side apply);
 * - update: replace objects when forced, and roll back;
 * - delete: objects dropped from the chart, hooks by their delete policy, and rollback of a failed install;
 * - list, watch: --wait follows the objects' own status (kstatus in helm 4).
 * Helm 4 waits on the objects themselves; the legacy waiter of helm 3 would
 * also read the ReplicaSets and Pods of workloads, which is not asked here.
 */
export const OBJECT_VERBS = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
] as const;

/**
 * Helm keeps one Secret per revision in the release namespace: it lists them
 * to find the release, creates one per revision, updates their status,
 * and deletes the oldest past --history-max.
 */
export const RELEASE_STORAGE_VERBS = [
  'get',
  'list',
  'create',
  'update',
  'patch',
  'delete',
] as const;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * Every permission applying the rendered objects needs, deduplicated, plus
 * helm's release storage. Kinds the cluster does not serve are skipped: the
 * boundary check refuses them before any preflight.
 */
export function requiredAccess(options: {
  objects: Array<{ object: Record<string, unknown> }>;
  discovery: Pick<ClusterDiscovery, 'resourceOf'>;
  releaseNamespace: string;
}): RequiredAccess[] {
  const { objects, discovery, releaseNamespace } = options;
  const required = new Map<string, RequiredAccess>();
  const add = (
    group: string,
    resource: string,
    namespace: string | undefined,
    verbs: readonly string[],
  ) => {
    for (const verb of verbs) {
      const key = JSON.stringify([group, resource, namespace ?? null, verb]);
      if (!required.has(key)) {
        required.set(key, {
          group,
          resource,
          verb,
          ...(namespace !== undefined && { namespace }),
          clusterScoped: namespace === undefined,
        });
      }
    }
  };

  add('', 'secrets', releaseNamespace, RELEASE_STORAGE_VERBS);
  for (const { object } of objects) {
    const apiVersion = text(object?.apiVersion);
    const kind = text(object?.kind);
    if (!apiVersion || !kind) {
      continue;
    }
    const [group, version] = apiVersion.includes('/')
      ? apiVersion.split('/', 2)
      : ['', apiVersion];
    const served = discovery.resourceOf(group, version, kind);
    if (!served) {
      continue;
    }
    const metadata =
      typeof object.metadata === 'object' && object.metadata !== null
        ? (object.metadata as Record<string, unknown>)
        : {};
    add(
      served.group,
      served.resource,
      served.namespaced
        ? text(metadata.namespace) ?? releaseNamespace
        : undefined,
      OBJECT_VERBS,
    );
  }
  return [...required.values()];
}
