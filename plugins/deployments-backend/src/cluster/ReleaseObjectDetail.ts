import { InputError, NotFoundError } from '@backstage/errors';
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObject,
  V1Deployment,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection } from './ClusterConnection';
import { eventsFor, indexEvents } from './kubeEvents';
import { readConditions } from './ReleaseResources';
import {
  checkRelease,
  inNamespace,
  manifestRefs,
  ObjectRef,
  ReleaseObjectApi,
} from './releaseObjects';
import { listPodsBySelectors, readReleaseSelectors } from './releasePods';
import { ResourceCondition, ResourceEvent } from './releaseResourceTypes';
import { releaseSecretRedactor } from './releaseSecretValues';

/** What replaces every value of a Secret in the YAML shown. */
export const HIDDEN_VALUE = '(hidden)';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** One object of a release as the cluster has it now, safe to show. */
export interface ReleaseObjectDetail {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /**
   * The live object as YAML: without managedFields, a Secret's values
   * (also in a last-applied-configuration annotation) replaced by
   * `(hidden)`, and the values of the release's Secrets redacted wherever
   * else they appear.
   */
  yaml: string;
  conditions: ResourceCondition[];
  /** Newest first, at most ten. */
  events: ResourceEvent[];
  /** Owner references, as 'Kind/name'. */
  owners: string[];
}

/** Which object to read: one of the release's. */
export interface ReleaseObjectQuery {
  kind: string;
  name: string;
  /** Needed only when two objects of the release share kind and name. */
  apiVersion?: string;
}

/**
 * One object of a release, live, with its conditions and events. Only the
 * release's own objects in the release namespace are read: those of its
 * manifest, the ReplicaSets its Deployments own and its pods. Anything else
 * (another release's object, a cluster-scoped object, another namespace)
 * is answered as not found, the same as an object that does not exist.
 *
 * @throws InputError when the query is malformed
 * @throws NotFoundError when the object is not one of the release's
 * @throws ClusterRequestError when the cluster cannot be read
 */
export async function readReleaseObject(options: {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  objects: ReadonlyArray<ManifestObject>;
  query: ReleaseObjectQuery;
}): Promise<ReleaseObjectDetail> {
  const { connection, namespace, releaseName, query } = options;
  checkRelease(namespace, releaseName);
  if (
    !/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(query.kind) ||
    !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(query.name)
  ) {
    throw new InputError('kind and name must name a Kubernetes object');
  }
  const refs = manifestRefs(options.objects, []).filter(ref =>
    inNamespace(ref, namespace),
  );
  const core = connection.makeApiClient(CoreV1Api);
  const notFound = () =>
    new NotFoundError(
      `${query.kind} ${query.name} is not an object of release ${releaseName} in ${namespace}`,
    );

  let live: KubernetesObject;
  try {
    live = await readOwnObject(
      connection,
      namespace,
      releaseName,
      options.objects,
      refs,
      query,
      notFound,
    );
  } catch (error) {
    if ((error as Error).name === 'NotFoundError') throw error;
    throw connection.describeError(error);
  }

  const [events, redact] = await Promise.all([
    core
      .listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=${query.kind},involvedObject.name=${query.name}`,
      })
      .then(list => list.items)
      .catch(() => []),
    releaseSecretRedactor(
      core,
      namespace,
      refs.filter(ref => ref.group === '' && ref.kind === 'Secret'),
    ),
  ]);
  const objectEvents = eventsFor(
    indexEvents(events),
    query.kind,
    query.name,
    live.metadata?.uid,
  ).map(event => ({ ...event, message: redact(event.message) }));

  return {
    apiVersion: live.apiVersion ?? query.apiVersion ?? '',
    kind: query.kind,
    name: query.name,
    namespace,
    yaml: redact(stringify(safeToShow(live), { lineWidth: 0 })),
    conditions: readConditions(live).map(condition => ({
      ...condition,
      ...(condition.message && { message: redact(condition.message) }),
    })),
    events: objectEvents,
    owners: (live.metadata?.ownerReferences ?? []).map(
      owner => `${owner.kind}/${owner.name}`,
    ),
  };
}

async function readOwnObject(
  connection: ClusterConnection,
  namespace: string,
  releaseName: string,
  objects: ReadonlyArray<ManifestObject>,
  refs: ObjectRef[],
  query: ReleaseObjectQuery,
  notFound: () => Error,
): Promise<KubernetesObject> {
  const ref = refs.find(
    r =>
      r.kind === query.kind &&
      r.name === query.name &&
      (query.apiVersion === undefined || r.apiVersion === query.apiVersion),
  );
  if (ref) {
    const api = connection.makeApiClient(ReleaseObjectApi);
    const scope = await api.scopeOf(ref.apiVersion, ref.kind);
    if (scope !== 'Namespaced') throw notFound();
    return api
      .read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace },
      })
      .catch(error => {
        if (connection.describeError(error).statusCode === 404) {
          throw notFound();
        }
        throw error;
      });
  }
  if (query.kind === 'Pod') {
    const selectors = await readReleaseSelectors({
      connection,
      namespace,
      releaseName,
      objects,
    });
    const pods = await listPodsBySelectors(
      connection.makeApiClient(CoreV1Api),
      namespace,
      selectors,
    );
    const pod = pods.find(p => p.metadata?.name === query.name);
    if (!pod) throw notFound();
    return { ...pod, apiVersion: 'v1', kind: 'Pod' };
  }
  if (query.kind === 'ReplicaSet') {
    const apps = connection.makeApiClient(AppsV1Api);
    const replicaSet = await apps
      .readNamespacedReplicaSet({ name: query.name, namespace })
      .catch(error => {
        if (connection.describeError(error).statusCode === 404) {
          throw notFound();
        }
        throw error;
      });
    // Owned by one of the release's Deployments as it is now (by uid).
    const owner = replicaSet.metadata?.ownerReferences?.find(
      o =>
        o.kind === 'Deployment' &&
        refs.some(r => r.kind === 'Deployment' && r.name === o.name),
    );
    if (!owner) throw notFound();
    const deployment: V1Deployment = await apps.readNamespacedDeployment({
      name: owner.name,
      namespace,
    });
    if (deployment.metadata?.uid !== owner.uid) throw notFound();
    return { ...replicaSet, apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  }
  throw notFound();
}

/**
 * A copy of the object to show: no managedFields (field ownership, noise
 * here), and for a Secret every value of data and stringData replaced,
 * including in a last-applied-configuration annotation.
 */
export function safeToShow(live: KubernetesObject): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(live)) as Record<string, any>;
  if (copy.metadata) {
    delete copy.metadata.managedFields;
  }
  if (copy.kind === 'Secret' && (copy.apiVersion ?? 'v1') === 'v1') {
    hideSecretValues(copy);
    const annotations = copy.metadata?.annotations as
      | Record<string, string>
      | undefined;
    if (annotations?.[LAST_APPLIED] !== undefined) {
      try {
        const applied = JSON.parse(annotations[LAST_APPLIED]);
        hideSecretValues(applied);
        annotations[LAST_APPLIED] = JSON.stringify(applied);
      } catch {
        annotations[LAST_APPLIED] = HIDDEN_VALUE;
      }
    }
  }
  return copy;
}

function hideSecretValues(secret: Record<string, any>): void {
  for (const field of ['data', 'stringData']) {
    const values = secret[field];
    if (values && typeof values === 'object') {
      secret[field] = Object.fromEntries(
        Object.keys(values).map(key => [key, HIDDEN_VALUE]),
      );
    } else if (values !== undefined) {
      secret[field] = HIDDEN_VALUE;
    }
  }
}
