import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  V1LabelSelector,
  V1Pod,
} from '@kubernetes/client-node';
import { ManifestObject } from '../targets/namespaceBoundary';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { ClusterConnection } from './ClusterConnection';
import { toIsoString } from './kubeValues';
import { matchesSelector, selectorToString } from './labelSelectors';
import {
  checkRelease,
  inNamespace,
  isWorkload,
  manifestRefs,
  READ_CONCURRENCY,
  readWorkload,
} from './releaseObjects';
import {
  ContainerRunState,
  RELEASE_INSTANCE_LABEL,
  ReleasePod,
  ReleasePodContainer,
  ReleaseSelector,
} from './releaseResourceTypes';
import { isPodReady, podHealth } from './workloadHealth';

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

/** The release's instance-label selector and its workloads' non-empty selectors. */
export function releaseSelectors(
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

export async function listPodsBySelectors(
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
    owners: (pod.metadata?.ownerReferences ?? []).map(
      owner => `${owner.kind}/${owner.name}`,
    ),
    containers,
    health: podHealth(pod),
  };
}
