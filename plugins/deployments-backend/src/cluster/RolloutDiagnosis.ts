import {
  ContainerLogTail,
  DiagnosedContainer,
  DiagnosedEvent,
  DiagnosedPod,
  RolloutDiagnosis,
} from '@kubedeploy/plugin-deployments-common';
import { CoreV1Api, CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { Redactor } from '../lib/redaction';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection } from './ClusterConnection';
import { eventTime } from './kubeEvents';
import { inNamespace, manifestRefs, READ_CONCURRENCY } from './releaseObjects';
import { listPodsBySelectors, readReleaseSelectors } from './releasePods';
import { releaseSecretRedactor } from './releaseSecretValues';
import { isPodReady, podHealth } from './workloadHealth';

/** Bounds of what a diagnosis keeps: it is stored with the operation. */
export const DIAGNOSIS_LIMITS = {
  pods: 20,
  events: 20,
  /** Containers whose logs are read. */
  logContainers: 5,
  logLines: 50,
  logBytes: 8 * 1024,
  lineLength: 500,
  messageLength: 1000,
};

/** Waiting reasons of containers that have not run yet: they have no logs. */
const NOT_STARTED = new Set([
  'ContainerCreating',
  'PodInitializing',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/**
 * Log tails already read, by pod, container and restart count: a watch
 * that reads a diagnosis every few seconds reads each crash's logs once.
 */
export type LogTailCache = Map<string, ContainerLogTail>;

export interface ReadRolloutDiagnosisOptions {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  /** The release's objects (e.g. from the dry-run); only those in `namespace` are considered. */
  objects: ReadonlyArray<ManifestObject>;
  /** Events last seen before this are left out (an earlier revision's). */
  since?: Date;
  logCache?: LogTailCache;
}

/**
 * Why a release's pods are not ready, in one picture: the pods of the
 * release (found as {@link findReleasePods} finds them) with their container
 * states, the newest events of the release's objects and pods, and the last
 * lines of containers that crashed or run without becoming ready.
 *
 * Event messages, container messages and log lines are redacted of the
 * values of the release's own Secrets (read here, never kept): a container
 * may print its credentials. The caller redacts the operation's secrets on
 * top, as for everything an operation stores.
 *
 * Partial failures (events or logs that cannot be read) become warnings.
 *
 * @throws ClusterRequestError when the pods cannot be listed
 */
export async function readRolloutDiagnosis(
  options: ReadRolloutDiagnosisOptions,
): Promise<RolloutDiagnosis> {
  const { connection, namespace } = options;
  const core = connection.makeApiClient(CoreV1Api);
  const warnings: string[] = [];
  const refs = manifestRefs(options.objects, []).filter(ref =>
    inNamespace(ref, namespace),
  );

  let selectors;
  let pods: V1Pod[];
  try {
    selectors = await readReleaseSelectors(options);
    pods = await listPodsBySelectors(core, namespace, selectors);
  } catch (error) {
    throw connection.describeError(error);
  }
  pods = pods.slice(0, DIAGNOSIS_LIMITS.pods);

  const [events, redact] = await Promise.all([
    core
      .listNamespacedEvent({ namespace, limit: 1000 })
      .then(list => list.items)
      .catch((error: unknown) => {
        warnings.push(
          `events could not be read: ${
            connection.describeError(error).message
          }`,
        );
        return [] as CoreV1Event[];
      }),
    releaseSecretRedactor(
      core,
      namespace,
      refs.filter(ref => ref.group === '' && ref.kind === 'Secret'),
    ).catch((error: unknown) => {
      // Without the Secrets' values, logs cannot be shown safely.
      warnings.push(
        `container logs are left out: the release's Secrets could not be read to redact them (${
          connection.describeError(error).message
        })`,
      );
      return undefined;
    }),
  ]);
  const text = (value: string) =>
    clip(redact ? redact(value) : value, DIAGNOSIS_LIMITS.messageLength);

  const diagnosedPods = pods.map(pod => describePodState(pod, text));
  const ownerNames = refs
    .filter(ref => ref.kind === 'Deployment')
    .map(ref => `${ref.name}-`);
  const objectKeys = new Set([
    ...refs.map(ref => `${ref.kind}/${ref.name}`),
    ...diagnosedPods.map(pod => `Pod/${pod.name}`),
  ]);
  const since = options.since?.getTime() ?? 0;
  const releaseEvents = events
    .filter(event => {
      const kind = event.involvedObject?.kind;
      const name = event.involvedObject?.name;
      if (!kind || !name) return false;
      // A Deployment's ReplicaSets say why they cannot create pods (quota, admission).
      const replicaSetOfRelease =
        kind === 'ReplicaSet' && ownerNames.some(p => name.startsWith(p));
      return objectKeys.has(`${kind}/${name}`) || replicaSetOfRelease;
    })
    .map(event => ({ event, time: eventTime(event) }))
    .filter(({ time }) => time === 0 || time >= since)
    .sort((a, b) => b.time - a.time)
    .slice(0, DIAGNOSIS_LIMITS.events)
    .map(
      ({ event, time }): DiagnosedEvent => ({
        object: `${event.involvedObject.kind}/${event.involvedObject.name}`,
        type: event.type ?? 'Normal',
        reason: event.reason ?? '',
        message: text(event.message ?? ''),
        count: event.count ?? event.series?.count ?? 1,
        ...(time > 0 && { lastSeen: new Date(time).toISOString() }),
      }),
    );

  const logs = redact
    ? await readFailingLogs(
        connection,
        core,
        namespace,
        diagnosedPods,
        redact,
        options.logCache,
        warnings,
      )
    : [];

  return {
    takenAt: new Date().toISOString(),
    pods: diagnosedPods,
    events: releaseEvents,
    logs,
    warnings,
  };
}

/** Whether a diagnosis shows something wrong: an unhealthy pod or a Warning event. */
export function showsProblems(diagnosis: RolloutDiagnosis): boolean {
  return (
    diagnosis.pods.some(pod => !pod.healthy) ||
    diagnosis.events.some(event => event.type === 'Warning')
  );
}

function describePodState(pod: V1Pod, text: Redactor): DiagnosedPod {
  const statuses = new Map(
    [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ].map(status => [status.name, status]),
  );
  const containers = [
    ...(pod.spec?.initContainers ?? []).map(c => ({
      name: c.name,
      init: true,
    })),
    ...(pod.spec?.containers ?? []).map(c => ({ name: c.name, init: false })),
  ].map(({ name, init }): DiagnosedContainer => {
    const status = statuses.get(name);
    const waiting = status?.state?.waiting;
    const terminated = status?.state?.terminated;
    let state: DiagnosedContainer['state'] = 'unknown';
    if (status?.state?.running) state = 'running';
    else if (waiting) state = 'waiting';
    else if (terminated) state = 'terminated';
    const reason = waiting?.reason ?? terminated?.reason;
    const message = waiting?.message ?? terminated?.message;
    const last = status?.lastState?.terminated;
    return {
      name,
      init,
      ready: status?.ready === true,
      restartCount: status?.restartCount ?? 0,
      state,
      ...(reason && { reason }),
      ...(message && { message: text(message) }),
      ...(last && {
        lastTermination: `${last.reason ?? 'terminated'} (exit code ${
          last.exitCode
        })`,
      }),
    };
  });
  const health = podHealth(pod);
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    restarts: containers.reduce((sum, c) => sum + c.restartCount, 0),
    healthy: health.healthy,
    health: health.message,
    containers,
  };
}

/** Containers whose own output may say what is wrong: they crashed, or run without becoming ready. */
function failingContainers(
  pods: DiagnosedPod[],
): Array<{ pod: string; container: DiagnosedContainer; previous: boolean }> {
  const failing = [];
  for (const pod of pods) {
    for (const container of pod.containers) {
      if (container.reason && NOT_STARTED.has(container.reason)) continue;
      const crashed =
        container.restartCount > 0 || container.lastTermination !== undefined;
      const stuck =
        !container.ready &&
        (container.state === 'running' ||
          (container.state === 'terminated' &&
            container.reason !== 'Completed'));
      if (crashed || stuck) {
        failing.push({
          pod: pod.name,
          container,
          // A crashing container's previous instance holds the crash.
          previous: crashed && container.state !== 'running',
        });
      }
    }
  }
  return failing.slice(0, DIAGNOSIS_LIMITS.logContainers);
}

async function readFailingLogs(
  connection: ClusterConnection,
  core: CoreV1Api,
  namespace: string,
  pods: DiagnosedPod[],
  redact: Redactor,
  cache: LogTailCache | undefined,
  warnings: string[],
): Promise<ContainerLogTail[]> {
  const tails = await mapWithConcurrency(
    failingContainers(pods),
    READ_CONCURRENCY,
    async ({ pod, container, previous }) => {
      const key = `${pod}/${container.name}/${container.restartCount}/${previous}`;
      const cached = cache?.get(key);
      // A running container's log grows: read it again; a crash's does not.
      if (cached && previous) return cached;
      try {
        const raw = await core.readNamespacedPodLog({
          name: pod,
          namespace,
          container: container.name,
          tailLines: DIAGNOSIS_LIMITS.logLines,
          limitBytes: DIAGNOSIS_LIMITS.logBytes,
          previous,
        });
        const tail = logTail(pod, container.name, previous, raw, redact);
        cache?.set(key, tail);
        return tail;
      } catch (error) {
        warnings.push(
          `the logs of ${pod}/${container.name} could not be read: ${
            connection.describeError(error).message
          }`,
        );
        return cached;
      }
    },
  );
  return tails.filter((tail): tail is ContainerLogTail => tail !== undefined);
}

function logTail(
  pod: string,
  container: string,
  previous: boolean,
  raw: unknown,
  redact: Redactor,
): ContainerLogTail {
  const body = typeof raw === 'string' ? raw : String(raw ?? '');
  let truncated = Buffer.byteLength(body) >= DIAGNOSIS_LIMITS.logBytes;
  // Redacted as a whole first, so a secret split over lines is found too.
  const lines = redact(body)
    .split(/\r?\n/)
    .filter((line, index, all) => line !== '' || index < all.length - 1)
    .slice(-DIAGNOSIS_LIMITS.logLines)
    .map(line => {
      if (line.length <= DIAGNOSIS_LIMITS.lineLength) return line;
      truncated = true;
      return `${line.slice(0, DIAGNOSIS_LIMITS.lineLength)}…`;
    });
  return { pod, container, previous, lines, truncated };
}

function clip(value: string, length: number): string {
  return value.length > length ? `${value.slice(0, length)}…` : value;
}
