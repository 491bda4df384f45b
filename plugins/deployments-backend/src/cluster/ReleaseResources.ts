import { InputError } from '@backstage/errors';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CoreV1Event,
  HttpMethod,
  KubernetesObject,
  KubernetesObjectApi,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1LabelSelector,
  V1PersistentVolumeClaim,
  V1Pod,
  V1ReplicaSet,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { isDns1123Label, ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';

/** Whether something is working, in one line a person understands. */
export interface ResourceHealth {
  healthy: boolean;
  message: string;
}

/** A status condition as Kubernetes reports it; times are ISO 8601. */
export interface ResourceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A recent Kubernetes event about an object. */
export interface ResourceEvent {
  /** 'Normal' or 'Warning'. */
  type: string;
  reason: string;
  message: string;
  count: number;
  /** ISO 8601; absent when the event carries no time at all. */
  lastSeen?: string;
}

/** Replica counts of a Deployment, StatefulSet, DaemonSet or ReplicaSet. */
export interface WorkloadReplicas {
  desired: number;
  ready: number;
  /** Replicas running the newest spec (for a ReplicaSet: replicas it created). */
  updated: number;
  available: number;
}

export interface JobCounts {
  active: number;
  succeeded: number;
  failed: number;
  completions?: number;
}

export interface ServiceInfo {
  type: string;
  clusterIP?: string;
  /** LoadBalancer ingress addresses, when assigned. */
  externalAddresses?: string[];
}

/**
 * What became of one object of the release.
 * 'skipped' objects were not read because they are outside the release
 * namespace (cluster-scoped or in another namespace).
 */
export type ReleaseObjectState = 'present' | 'missing' | 'skipped' | 'error';

export interface ReleaseObjectStatus {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  state: ReleaseObjectState;
  /** Absent for skipped objects, whose health is not known. */
  health?: ResourceHealth;
  /** Why the object was skipped or could not be read; safe to show. */
  detail?: string;
  replicas?: WorkloadReplicas;
  job?: JobCounts;
  service?: ServiceInfo;
  persistentVolumeClaim?: { phase: string };
  conditions: ResourceCondition[];
  /** Newest first, at most ten. */
  events: ResourceEvent[];
}

export type ContainerRunState =
  | 'running'
  | 'waiting'
  | 'terminated'
  | 'unknown';

export interface ReleasePodContainer {
  name: string;
  /** An init container, which runs to completion before the others start. */
  init: boolean;
  image?: string;
  ready: boolean;
  restartCount: number;
  state: ContainerRunState;
  /** e.g. 'CrashLoopBackOff' or 'Completed'. */
  reason?: string;
  /** Whether an earlier instance of this container exists, whose logs `previous` reads. */
  hasPrevious: boolean;
}

export interface ReleasePod {
  name: string;
  namespace: string;
  phase: string;
  /** The pod's Ready condition. */
  ready: boolean;
  /** Restarts of all containers together. */
  restarts: number;
  node?: string;
  createdAt?: string;
  /** The release's workloads whose selector matches the pod, as 'Kind/name'. */
  workloads: string[];
  containers: ReleasePodContainer[];
  health: ResourceHealth;
}

export interface ReleasePodStatus extends ReleasePod {
  /** Newest first, at most ten. */
  events: ResourceEvent[];
}

/** The live state of a Helm release's objects, plain JSON for API responses. */
export interface ReleaseResources {
  namespace: string;
  releaseName: string;
  summary: ResourceHealth;
  objects: ReleaseObjectStatus[];
  pods: ReleasePodStatus[];
  /** What could not be read (e.g. events), when the rest could. */
  warnings: string[];
  fetchedAt: string;
}

/** The label Helm charts conventionally put on everything of a release. */
export const RELEASE_INSTANCE_LABEL = 'app.kubernetes.io/instance';

const MAX_EVENTS_PER_OBJECT = 10;
const READ_CONCURRENCY = 6;
const MAX_OBJECTS = 500;

/** Kinds, as 'group/Kind', whose pods are found through their selector. */
const WORKLOAD_KINDS = new Set([
  'apps/Deployment',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'apps/ReplicaSet',
  'batch/Job',
]);

/**
 * KubernetesObjectApi with access to API discovery, and metadata-only
 * reads so that Secret values are never fetched.
 */
class ReleaseObjectApi extends KubernetesObjectApi {
  /** 'Namespaced', 'Cluster', or undefined when the cluster does not serve the kind. */
  async scopeOf(
    apiVersion: string,
    kind: string,
  ): Promise<'Namespaced' | 'Cluster' | undefined> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) {
      return undefined;
    }
    return resource.namespaced ? 'Namespaced' : 'Cluster';
  }

  async readMetadata(spec: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  }): Promise<KubernetesObject> {
    const path = await this.specUriPath(spec, 'read');
    const request = this.configuration.baseServer.makeRequestContext(
      path,
      HttpMethod.GET,
    );
    request.setHeaderParam(
      'Accept',
      'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    );
    return this.requestPromise(request, 'KubernetesObject');
  }
}

/**
 * Reads the live state of every object of a release, its pods and recent
 * events. Only the release namespace is ever read: cluster-scoped objects
 * and objects in other namespaces are reported as skipped.
 *
 * Problems reading single objects end up in the result; only a failure that
 * leaves nothing to show (such as an unreachable cluster) is thrown.
 *
 * @throws InputError when the namespace or release name is invalid
 * @throws ClusterRequestError when the cluster cannot be read at all
 */
export async function getReleaseResources(options: {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  /** The release's objects, e.g. parsed from `helm get manifest`. */
  objects: ReadonlyArray<ManifestObject>;
}): Promise<ReleaseResources> {
  const { connection, namespace, releaseName } = options;
  checkRelease(namespace, releaseName);
  const warnings: string[] = [];
  const refs = manifestRefs(options.objects, warnings);

  const api = connection.makeApiClient(ReleaseObjectApi);
  const core = connection.makeApiClient(CoreV1Api);

  const read = await mapWithConcurrency(refs, READ_CONCURRENCY, ref =>
    readObject(api, connection, namespace, ref),
  );
  const unreadable = read.map(entry => entry.error);
  if (
    unreadable.length > 0 &&
    unreadable.every(
      error =>
        error !== undefined &&
        error.kind !== 'forbidden' &&
        error.kind !== 'response',
    ) &&
    unreadable[0]
  ) {
    // Nothing could be read: the cluster is out of reach or refuses the credentials.
    throw unreadable[0];
  }

  const workloads = read.flatMap(entry =>
    entry.live && isWorkload(entry.ref)
      ? [{ ref: entry.ref, object: entry.live }]
      : [],
  );
  const selectors = releaseSelectors(
    releaseName,
    workloads.map(({ ref, object }) => ({
      owner: `${ref.kind}/${ref.name}`,
      selector: (object as { spec?: { selector?: V1LabelSelector } }).spec
        ?.selector,
    })),
  );

  const [pods, events] = await Promise.all([
    listPodsBySelectors(core, namespace, selectors).catch((error: unknown) => {
      warnings.push(
        `pods could not be listed: ${connection.describeError(error).message}`,
      );
      return [];
    }),
    core
      .listNamespacedEvent({ namespace })
      .then(list => list.items)
      .catch((error: unknown) => {
        warnings.push(
          `events could not be listed: ${
            connection.describeError(error).message
          }`,
        );
        return [] as CoreV1Event[];
      }),
  ]);
  const eventIndex = indexEvents(events);

  const objects = read.map(entry => describeObject(entry, eventIndex));
  const podStatuses = pods.map(pod => ({
    ...describePod(pod, selectors),
    events: eventsFor(eventIndex, 'Pod', pod.metadata?.name, pod.metadata?.uid),
  }));

  return {
    namespace,
    releaseName,
    summary: summarize(objects),
    objects,
    pods: podStatuses,
    warnings,
    fetchedAt: new Date().toISOString(),
  };
}

/**
 * The pods of a release: those matched by its workloads' live selectors or
 * labelled `app.kubernetes.io/instance=<release>`, all in the release
 * namespace.
 *
 * @throws ClusterRequestError
 */
export async function findReleasePods(options: {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  objects: ReadonlyArray<ManifestObject>;
}): Promise<ReleasePod[]> {
  const { connection, namespace, releaseName } = options;
  checkRelease(namespace, releaseName);
  const selectors = await readReleaseSelectors(options);
  try {
    const pods = await listPodsBySelectors(
      connection.makeApiClient(CoreV1Api),
      namespace,
      selectors,
    );
    return pods.map(pod => describePod(pod, selectors));
  } catch (error) {
    throw connection.describeError(error);
  }
}

/** A label selector of the release and who it belongs to. */
export interface ReleaseSelector {
  /** 'Kind/name' of the workload, or 'release' for the instance label. */
  owner: string;
  selector: V1LabelSelector;
}

/**
 * The selectors that find the release's pods, from its workloads as they
 * are in the cluster now. Workloads that do not exist are left out.
 *
 * @throws ClusterRequestError
 */
export async function readReleaseSelectors(options: {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  objects: ReadonlyArray<ManifestObject>;
}): Promise<ReleaseSelector[]> {
  const { connection, namespace, releaseName } = options;
  checkRelease(namespace, releaseName);
  const refs = manifestRefs(options.objects, []).filter(
    ref => isWorkload(ref) && inNamespace(ref, namespace),
  );
  const apps = connection.makeApiClient(AppsV1Api);
  const batch = connection.makeApiClient(BatchV1Api);
  const found = await mapWithConcurrency(refs, READ_CONCURRENCY, async ref => {
    try {
      const workload = await readWorkload(apps, batch, namespace, ref);
      return [
        { owner: `${ref.kind}/${ref.name}`, selector: workload.spec?.selector },
      ];
    } catch (error) {
      const described = connection.describeError(error);
      if (described.statusCode === 404) {
        return [];
      }
      throw described;
    }
  });
  return releaseSelectors(releaseName, found.flat());
}

/** Whether a label set matches a selector; an empty or invalid selector matches nothing. */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: V1LabelSelector,
): boolean {
  if (selectorToString(selector) === undefined) {
    return false;
  }
  const actual = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (actual[key] !== value) {
      return false;
    }
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(actual, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(actual[expression.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(actual[expression.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * A selector in the label selector query syntax, or undefined when it is
 * empty (it would match every pod) or uses an operator we do not know.
 */
export function selectorToString(
  selector: V1LabelSelector | undefined,
): string | undefined {
  if (!selector) {
    return undefined;
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    parts.push(`${key}=${value}`);
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ??
    []) {
    switch (operator) {
      case 'In':
        parts.push(`${key} in (${values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${key} notin (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
      default:
        return undefined;
    }
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** The health of a Deployment, StatefulSet, DaemonSet or ReplicaSet as its controller reports it. */
export function workloadHealth(
  kind: string,
  object: unknown,
): { replicas: WorkloadReplicas; health: ResourceHealth } {
  const problems: string[] = [];
  let replicas: WorkloadReplicas;
  let paused = false;
  let generation: number | undefined;
  let observedGeneration: number | undefined;

  switch (kind) {
    case 'Deployment': {
      const deployment = object as V1Deployment;
      const status = deployment.status ?? {};
      generation = deployment.metadata?.generation;
      observedGeneration = status.observedGeneration;
      paused = deployment.spec?.paused === true;
      replicas = {
        desired: deployment.spec?.replicas ?? 1,
        ready: status.readyReplicas ?? 0,
        updated: status.updatedReplicas ?? 0,
        available: status.availableReplicas ?? 0,
      };
      const progressing = status.conditions?.find(
        c => c.type === 'Progressing',
      );
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        problems.push('progress deadline exceeded');
      }
      const old = (status.replicas ?? 0) - replicas.updated;
      if (old > 0 && replicas.updated >= replicas.desired) {
        problems.push(`${old} old ${plural(old, 'replica')} terminating`);
      }
      break;
    }
    case 'StatefulSet': {
      const statefulSet = object as V1StatefulSet;
      const status = statefulSet.status;
      generation = statefulSet.metadata?.generation;
      observedGeneration = status?.observedGeneration;
      replicas = {
        desired: statefulSet.spec?.replicas ?? 1,
        ready: status?.readyReplicas ?? 0,
        updated: status?.updatedReplicas ?? 0,
        available: status?.availableReplicas ?? 0,
      };
      const strategy = statefulSet.spec?.updateStrategy;
      if (strategy?.type !== 'OnDelete') {
        const partition = strategy?.rollingUpdate?.partition ?? 0;
        if (replicas.updated < replicas.desired - partition) {
          problems.push('update in progress');
        } else if (
          partition === 0 &&
          status?.updateRevision !== undefined &&
          status.currentRevision !== status.updateRevision
        ) {
          problems.push('update in progress');
        }
      }
      break;
    }
    case 'DaemonSet': {
      const daemonSet = object as V1DaemonSet;
      const status = daemonSet.status;
      generation = daemonSet.metadata?.generation;
      observedGeneration = status?.observedGeneration;
      replicas = {
        desired: status?.desiredNumberScheduled ?? 0,
        ready: status?.numberReady ?? 0,
        updated: status?.updatedNumberScheduled ?? 0,
        available: status?.numberAvailable ?? 0,
      };
      if (daemonSet.spec?.updateStrategy?.type === 'OnDelete') {
        // Pods are only replaced by hand, so old ones are expected.
        replicas = { ...replicas, updated: replicas.desired };
      }
      break;
    }
    default: {
      const replicaSet = object as V1ReplicaSet;
      const status = replicaSet.status;
      generation = replicaSet.metadata?.generation;
      observedGeneration = status?.observedGeneration;
      replicas = {
        desired: replicaSet.spec?.replicas ?? 1,
        ready: status?.readyReplicas ?? 0,
        updated: status?.replicas ?? 0,
        available: status?.availableReplicas ?? 0,
      };
    }
  }

  if (
    generation !== undefined &&
    (observedGeneration === undefined || observedGeneration < generation)
  ) {
    problems.unshift('waiting for the controller to see the new spec');
  }
  const { desired, ready, updated, available } = replicas;
  const complete =
    problems.length === 0 &&
    ready >= desired &&
    available >= desired &&
    updated >= desired;
  let message = `${ready}/${desired} replicas ready`;
  if (!complete && updated !== desired) {
    message += `, ${updated} updated`;
  }
  if (problems.length > 0) {
    message += `; ${problems.join('; ')}`;
  }
  if (paused) {
    message += ' (paused)';
  }
  return { replicas, health: { healthy: complete, message } };
}

/** The health of one pod, from its phase, Ready condition and container states. */
export function podHealth(pod: V1Pod): ResourceHealth {
  const phase = pod.status?.phase ?? 'Unknown';
  if (pod.metadata?.deletionTimestamp) {
    return { healthy: false, message: 'terminating' };
  }
  if (phase === 'Succeeded') {
    return { healthy: true, message: 'completed' };
  }
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (
      waiting?.reason &&
      waiting.reason !== 'ContainerCreating' &&
      waiting.reason !== 'PodInitializing'
    ) {
      return {
        healthy: false,
        message: `container ${status.name}: ${waiting.reason}`,
      };
    }
  }
  if (phase === 'Failed') {
    return {
      healthy: false,
      message: `failed${pod.status?.reason ? `: ${pod.status.reason}` : ''}`,
    };
  }
  const unscheduled = pod.status?.conditions?.find(
    c => c.type === 'PodScheduled' && c.status === 'False',
  );
  if (unscheduled) {
    return {
      healthy: false,
      message: `not scheduled${
        unscheduled.reason ? `: ${unscheduled.reason}` : ''
      }`,
    };
  }
  if (phase === 'Running' && isPodReady(pod)) {
    return { healthy: true, message: 'running' };
  }
  return {
    healthy: false,
    message: phase === 'Running' ? 'running, not ready' : phase.toLowerCase(),
  };
}

/** A reference to one object of the manifest, validated. */
interface ObjectRef {
  apiVersion: string;
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface ReadResult {
  ref: ObjectRef;
  /** Set only when the object was not read on purpose. */
  skipped?: string;
  /** The effective namespace, or undefined for cluster-scoped objects. */
  namespace?: string;
  live?: KubernetesObject;
  error?: ClusterRequestError;
}

/**
 * Checks a release's namespace and name before they go into a request.
 *
 * @throws InputError
 */
export function checkRelease(namespace: string, releaseName: string): void {
  if (!isDns1123Label(namespace)) {
    throw new InputError('namespace is not a valid namespace name');
  }
  // Helm release names are DNS-1123 labels of at most 53 characters.
  if (!isDns1123Label(releaseName) || releaseName.length > 53) {
    throw new InputError('releaseName is not a valid Helm release name');
  }
}

function manifestRefs(
  objects: ReadonlyArray<ManifestObject>,
  warnings: string[],
): ObjectRef[] {
  if (objects.length > MAX_OBJECTS) {
    throw new InputError(
      `a release may have at most ${MAX_OBJECTS} objects to show`,
    );
  }
  const refs: ObjectRef[] = [];
  const seen = new Set<string>();
  for (const object of objects) {
    const apiVersion = object.apiVersion;
    const kind = object.kind;
    const name = object.metadata?.name;
    if (
      typeof apiVersion !== 'string' ||
      typeof kind !== 'string' ||
      typeof name !== 'string' ||
      !/^([a-z0-9.-]+\/)?[a-z0-9]+$/.test(apiVersion) ||
      !/^[A-Za-z][A-Za-z0-9]*$/.test(kind) ||
      !/^[a-zA-Z0-9][-a-zA-Z0-9_.:]*$/.test(name) ||
      name.length > 253
    ) {
      warnings.push(
        'an object without a valid apiVersion, kind and name was left out',
      );
      continue;
    }
    const namespace = object.metadata?.namespace;
    const key = `${apiVersion}|${kind}|${namespace ?? ''}|${name}`;
    if (seen.has(key)) {
      continue;
    }
    seen.add(key);
    refs.push({
      apiVersion,
      group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
      kind,
      name,
      ...(namespace !== undefined && { namespace }),
    });
  }
  return refs;
}

function isWorkload(ref: ObjectRef): boolean {
  return WORKLOAD_KINDS.has(`${ref.group}/${ref.kind}`);
}

function inNamespace(ref: ObjectRef, namespace: string): boolean {
  return ref.namespace === undefined || ref.namespace === namespace;
}

function describeRef(ref: ObjectRef): string {
  return `${ref.apiVersion} ${ref.kind}`;
}

async function readObject(
  api: ReleaseObjectApi,
  connection: ClusterConnection,
  namespace: string,
  ref: ObjectRef,
): Promise<ReadResult> {
  if (!inNamespace(ref, namespace)) {
    return {
      ref,
      namespace: ref.namespace,
      skipped: `in namespace ${ref.namespace}, outside the release namespace`,
    };
  }
  let scope: 'Namespaced' | 'Cluster' | undefined;
  try {
    scope = await api.scopeOf(ref.apiVersion, ref.kind);
  } catch (error) {
    const described = connection.describeError(error);
    if (described.statusCode === 404) {
      // The whole group/version is not served.
      scope = undefined;
    } else {
      return { ref, namespace, error: described };
    }
  }
  if (scope === undefined) {
    return {
      ref,
      namespace,
      error: new ClusterRequestError(
        `the cluster does not serve ${describeRef(ref)}`,
        'response',
        404,
      ),
    };
  }
  if (scope === 'Cluster') {
    return {
      ref,
      skipped: 'cluster-scoped, outside the release namespace',
    };
  }
  const spec = {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, namespace },
  };
  try {
    const live =
      ref.group === '' && ref.kind === 'Secret'
        ? await api.readMetadata(spec)
        : await api.read(spec);
    return { ref, namespace, live };
  } catch (error) {
    const described = connection.describeError(error);
    if (described.statusCode === 404) {
      return { ref, namespace };
    }
    return { ref, namespace, error: described };
  }
}

async function readWorkload(
  apps: AppsV1Api,
  batch: BatchV1Api,
  namespace: string,
  ref: ObjectRef,
): Promise<{ spec?: { selector?: V1LabelSelector } }> {
  const request = { name: ref.name, namespace };
  switch (`${ref.group}/${ref.kind}`) {
    case 'apps/Deployment':
      return apps.readNamespacedDeployment(request);
    case 'apps/StatefulSet':
      return apps.readNamespacedStatefulSet(request);
    case 'apps/DaemonSet':
      return apps.readNamespacedDaemonSet(request);
    case 'apps/ReplicaSet':
      return apps.readNamespacedReplicaSet(request);
    default:
      return batch.readNamespacedJob(request);
  }
}

function releaseSelectors(
  releaseName: string,
  workloads: Array<{ owner: string; selector: V1LabelSelector | undefined }>,
): ReleaseSelector[] {
  const selectors: ReleaseSelector[] = [
    {
      owner: 'release',
      selector: { matchLabels: { [RELEASE_INSTANCE_LABEL]: releaseName } },
    },
  ];
  for (const { owner, selector } of workloads) {
    // An empty selector would match every pod in the namespace.
    if (selector && selectorToString(selector) !== undefined) {
      selectors.push({ owner, selector });
    }
  }
  return selectors;
}

async function listPodsBySelectors(
  core: CoreV1Api,
  namespace: string,
  selectors: ReleaseSelector[],
): Promise<V1Pod[]> {
  const queries = [
    ...new Set(selectors.map(s => selectorToString(s.selector)!)),
  ];
  const lists = await mapWithConcurrency(queries, READ_CONCURRENCY, query =>
    core.listNamespacedPod({ namespace, labelSelector: query }),
  );
  const pods = new Map<string, V1Pod>();
  for (const list of lists) {
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (name !== undefined && pod.metadata?.namespace === namespace) {
        pods.set(name, pod);
      }
    }
  }
  return [...pods.values()].sort((a, b) =>
    (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
}

/** A pod as the API shows it: containers from the spec, states from the status. */
export function describePod(
  pod: V1Pod,
  selectors: ReadonlyArray<ReleaseSelector>,
): ReleasePod {
  const statuses = new Map(
    [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ].map(status => [status.name, status]),
  );
  const containers: ReleasePodContainer[] = [
    ...(pod.spec?.initContainers ?? []).map(c => ({
      container: c,
      init: true,
    })),
    ...(pod.spec?.containers ?? []).map(c => ({ container: c, init: false })),
  ].map(({ container, init }) => {
    const status = statuses.get(container.name);
    const restartCount = status?.restartCount ?? 0;
    let state: ContainerRunState = 'unknown';
    let reason: string | undefined;
    if (status?.state?.running) {
      state = 'running';
    } else if (status?.state?.waiting) {
      state = 'waiting';
      reason = status.state.waiting.reason;
    } else if (status?.state?.terminated) {
      state = 'terminated';
      reason = status.state.terminated.reason;
    }
    return {
      name: container.name,
      init,
      ...(container.image !== undefined && { image: container.image }),
      ready: status?.ready === true,
      restartCount,
      state,
      ...(reason !== undefined && { reason }),
      hasPrevious:
        restartCount > 0 || status?.lastState?.terminated !== undefined,
    };
  });
  const labels = pod.metadata?.labels;
  const createdAt = toIsoString(pod.metadata?.creationTimestamp);
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    restarts: containers.reduce((sum, c) => sum + c.restartCount, 0),
    ...(pod.spec?.nodeName !== undefined && { node: pod.spec.nodeName }),
    ...(createdAt !== undefined && { createdAt }),
    workloads: selectors
      .filter(s => s.owner !== 'release' && matchesSelector(labels, s.selector))
      .map(s => s.owner),
    containers,
    health: podHealth(pod),
  };
}

function isPodReady(pod: V1Pod): boolean {
  return (
    pod.status?.conditions?.some(
      c => c.type === 'Ready' && c.status === 'True',
    ) === true
  );
}

type EventIndex = Map<string, CoreV1Event[]>;

function indexEvents(events: CoreV1Event[]): EventIndex {
  const index: EventIndex = new Map();
  for (const event of events) {
    const involved = event.involvedObject;
    if (!involved?.kind || !involved.name) {
      continue;
    }
    const key = `${involved.kind}/${involved.name}`;
    const list = index.get(key);
    if (list) {
      list.push(event);
    } else {
      index.set(key, [event]);
    }
  }
  return index;
}

function eventTime(event: CoreV1Event): number {
  const time =
    event.lastTimestamp ??
    event.series?.lastObservedTime ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata?.creationTimestamp;
  const millis = time === undefined ? NaN : new Date(time).getTime();
  return Number.isNaN(millis) ? 0 : millis;
}

function eventsFor(
  index: EventIndex,
  kind: string,
  name: string | undefined,
  uid: string | undefined,
): ResourceEvent[] {
  if (name === undefined) {
    return [];
  }
  // Events of an earlier object with the same name carry another uid.
  const matching = (index.get(`${kind}/${name}`) ?? []).filter(
    event =>
      uid === undefined ||
      !event.involvedObject.uid ||
      event.involvedObject.uid === uid,
  );
  return matching
    .map(event => ({ event, time: eventTime(event) }))
    .sort((a, b) => b.time - a.time)
    .slice(0, MAX_EVENTS_PER_OBJECT)
    .map(({ event, time }) => ({
      type: event.type ?? 'Normal',
      reason: event.reason ?? '',
      message: event.message ?? '',
      count: event.count ?? event.series?.count ?? 1,
      ...(time > 0 && { lastSeen: new Date(time).toISOString() }),
    }));
}

function describeObject(
  entry: ReadResult,
  events: EventIndex,
): ReleaseObjectStatus {
  const { ref } = entry;
  const base = {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    ...(entry.namespace !== undefined && { namespace: entry.namespace }),
  };
  if (entry.skipped !== undefined) {
    return {
      ...base,
      state: 'skipped',
      detail: entry.skipped,
      conditions: [],
      events: [],
    };
  }
  if (entry.error) {
    return {
      ...base,
      state: 'error',
      health: {
        healthy: false,
        message: `could not be read: ${entry.error.message}`,
      },
      detail: entry.error.message,
      conditions: [],
      events: [],
    };
  }
  const objectEvents = eventsFor(
    events,
    ref.kind,
    ref.name,
    entry.live?.metadata?.uid,
  );
  if (!entry.live) {
    return {
      ...base,
      state: 'missing',
      health: { healthy: false, message: 'missing' },
      conditions: [],
      events: objectEvents,
    };
  }
  return {
    ...base,
    state: 'present',
    ...describeLive(ref, entry.live),
    events: objectEvents,
  };
}

function describeLive(
  ref: ObjectRef,
  live: KubernetesObject,
): Pick<
  ReleaseObjectStatus,
  | 'health'
  | 'replicas'
  | 'job'
  | 'service'
  | 'persistentVolumeClaim'
  | 'conditions'
> {
  const conditions = readConditions(live);
  switch (`${ref.group}/${ref.kind}`) {
    case 'apps/Deployment':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
    case 'apps/ReplicaSet':
      return { ...workloadHealth(ref.kind, live), conditions };
    case 'batch/Job': {
      const job = live as V1Job;
      const counts: JobCounts = {
        active: job.status?.active ?? 0,
        succeeded: job.status?.succeeded ?? 0,
        failed: job.status?.failed ?? 0,
        ...(job.spec?.completions !== undefined && {
          completions: job.spec.completions,
        }),
      };
      return { job: counts, health: jobHealth(job, counts), conditions };
    }
    case '/Pod':
      return { health: podHealth(live as V1Pod), conditions };
    case '/Service': {
      const service = live as V1Service;
      const type = service.spec?.type ?? 'ClusterIP';
      const clusterIP = service.spec?.clusterIP;
      const externalAddresses = (service.status?.loadBalancer?.ingress ?? [])
        .map(ingress => ingress.ip ?? ingress.hostname)
        .filter((address): address is string => Boolean(address));
      let message = clusterIP ? `${type} ${clusterIP}` : type;
      if (type === 'LoadBalancer') {
        message +=
          externalAddresses.length > 0
            ? `, external ${externalAddresses.join(', ')}`
            : ', external address pending';
      }
      return {
        service: {
          type,
          ...(clusterIP !== undefined && { clusterIP }),
          ...(externalAddresses.length > 0 && { externalAddresses }),
        },
        health: { healthy: true, message },
        conditions,
      };
    }
    case '/PersistentVolumeClaim': {
      const phase =
        (live as V1PersistentVolumeClaim).status?.phase ?? 'Unknown';
      return {
        persistentVolumeClaim: { phase },
        health: { healthy: phase === 'Bound', message: phase },
        conditions,
      };
    }
    default:
      return { health: conditionHealth(conditions), conditions };
  }
}

function jobHealth(job: V1Job, counts: JobCounts): ResourceHealth {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find(
    c =>
      (c.type === 'Failed' || c.type === 'FailureTarget') &&
      c.status === 'True',
  );
  if (failed) {
    return {
      healthy: false,
      message: `failed${failed.reason ? `: ${failed.reason}` : ''}`,
    };
  }
  if (conditions.some(c => c.type === 'Complete' && c.status === 'True')) {
    return {
      healthy: true,
      message: `complete, ${counts.succeeded} succeeded`,
    };
  }
  if (job.spec?.suspend) {
    return { healthy: true, message: 'suspended' };
  }
  return {
    healthy: true,
    message: `running: ${counts.active} active, ${counts.succeeded} succeeded, ${counts.failed} failed`,
  };
}

/** For kinds we know nothing about: a Ready or Available condition that is False is a problem. */
function conditionHealth(conditions: ResourceCondition[]): ResourceHealth {
  const failing = conditions.find(
    c => (c.type === 'Ready' || c.type === 'Available') && c.status === 'False',
  );
  if (failing) {
    return {
      healthy: false,
      message: `${failing.type}: ${failing.reason ?? 'False'}${
        failing.message ? ` (${failing.message})` : ''
      }`,
    };
  }
  return { healthy: true, message: 'present' };
}

function readConditions(live: KubernetesObject): ResourceCondition[] {
  const raw: unknown = (live as { status?: { conditions?: unknown } }).status
    ?.conditions;
  if (!Array.isArray(raw)) {
    return [];
  }
  const conditions: ResourceCondition[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item !== 'object' || item === null) {
      continue;
    }
    const { type, status, reason, message, lastTransitionTime } =
      item as Record<string, unknown>;
    if (typeof type !== 'string' || typeof status !== 'string') {
      continue;
    }
    const time = toIsoString(lastTransitionTime);
    conditions.push({
      type,
      status,
      ...(typeof reason === 'string' && reason && { reason }),
      ...(typeof message === 'string' && message && { message }),
      ...(time !== undefined && { lastTransitionTime: time }),
    });
  }
  return conditions;
}

function summarize(objects: ReleaseObjectStatus[]): ResourceHealth {
  const problems = objects.filter(o => o.health && !o.health.healthy);
  if (problems.length > 0) {
    const first = problems[0];
    const more =
      problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    return {
      healthy: false,
      message: `${first.kind} ${first.name}: ${first.health!.message}${more}`,
    };
  }
  const withReplicas = objects.filter(o => o.replicas);
  if (withReplicas.length > 0) {
    const desired = withReplicas.reduce((n, o) => n + o.replicas!.desired, 0);
    const ready = withReplicas.reduce((n, o) => n + o.replicas!.ready, 0);
    return {
      healthy: true,
      message: `${ready}/${desired} replicas ready`,
    };
  }
  const present = objects.filter(o => o.state === 'present').length;
  return {
    healthy: true,
    message: `${present} ${plural(present, 'object')} present`,
  };
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

function toIsoString(value: unknown): string | undefined {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  }
  if (typeof value === 'string' && value) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  return undefined;
}
