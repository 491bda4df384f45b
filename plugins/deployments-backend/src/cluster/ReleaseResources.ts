import {
  AppsV1Api,
  CoreV1Api,
  CoreV1Event,
  KubernetesObject,
  V1Job,
  V1LabelSelector,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection } from './ClusterConnection';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { EventIndex, eventsFor, indexEvents } from './kubeEvents';
import { plural, toIsoString } from './kubeValues';
import { listOwnedReplicaSets } from './releaseReplicaSets';
import {
  checkRelease,
  isWorkload,
  manifestRefs,
  ObjectRef,
  READ_CONCURRENCY,
  ReadResult,
  readObject,
  ReleaseObjectApi,
} from './releaseObjects';
import {
  describePod,
  listPodsBySelectors,
  releaseSelectors,
} from './releasePods';
import {
  JobCounts,
  ReleaseObjectStatus,
  ReleaseResources,
  ResourceCondition,
  ResourceHealth,
} from './releaseResourceTypes';
import {
  conditionHealth,
  jobHealth,
  podHealth,
  workloadHealth,
} from './workloadHealth';

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
  const deployments = workloads
    .filter(({ ref }) => ref.group === 'apps' && ref.kind === 'Deployment')
    .map(({ object }) => object);
  const replicaSets = await listOwnedReplicaSets(
    connection.makeApiClient(AppsV1Api),
    namespace,
    deployments,
    eventIndex,
  ).catch((error: unknown) => {
    warnings.push(
      `replica sets could not be listed: ${
        connection.describeError(error).message
      }`,
    );
    return [];
  });
  const podStatuses = pods.map(pod => ({
    ...describePod(pod, selectors),
    events: eventsFor(eventIndex, 'Pod', pod.metadata?.name, pod.metadata?.uid),
  }));

  return {
    namespace,
    releaseName,
    summary: summarize(objects),
    objects,
    replicaSets,
    pods: podStatuses,
    warnings,
    fetchedAt: new Date().toISOString(),
  };
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

/** The status conditions of any object, those that are well-formed. */
export function readConditions(live: KubernetesObject): ResourceCondition[] {
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
