import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { ClusterConnection } from '../cluster/ClusterConnection';

/**
 * KWOK runs every pod of the local cluster and marks it Ready. This sets a
 * pod's status as a kubelet would for a crashing container (KWOK leaves a
 * status alone once its own stages are done) and records the kubelet's
 * BackOff event, so a release's pods never become ready for real: the
 * Deployment controller, helm --wait and the API read them as they are.
 */
export async function makePodCrashLoop(
  connection: ClusterConnection,
  namespace: string,
  pod: { name: string; uid?: string; container: string },
  options: {
    /** Sets the pod running at this IP, so KWOK takes it as already started. */
    podIP?: string;
  } = {},
): Promise<void> {
  const core = connection.makeApiClient(CoreV1Api);
  const now = new Date();
  await core.patchNamespacedPodStatus(
    {
      name: pod.name,
      namespace,
      body: {
        status: {
          ...(options.podIP && {
            phase: 'Running',
            podIP: options.podIP,
            podIPs: [{ ip: options.podIP }],
            hostIP: '10.0.0.1',
            startTime: now,
          }),
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Initialized', status: 'True' },
            {
              type: 'ContainersReady',
              status: 'False',
              reason: 'ContainersNotReady',
            },
            {
              type: 'Ready',
              status: 'False',
              reason: 'ContainersNotReady',
              message: `containers with unready status: [${pod.container}]`,
            },
          ],
          containerStatuses: [
            {
              name: pod.container,
              image: 'nginxinc/nginx-unprivileged:1.27',
              imageID: '',
              ready: false,
              started: false,
              restartCount: 4,
              state: {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: `back-off 1m20s restarting failed container=${pod.container} pod=${pod.name}`,
                },
              },
              lastState: {
                terminated: {
                  exitCode: 137,
                  reason: 'OOMKilled',
                },
              },
            },
          ],
        },
      },
    },
    // A merge patch: the body is part of the status, not all of it.
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await core.createNamespacedEvent({
    namespace,
    body: {
      metadata: { generateName: `${pod.name}.` },
      involvedObject: {
        kind: 'Pod',
        name: pod.name,
        namespace,
        apiVersion: 'v1',
        ...(pod.uid && { uid: pod.uid }),
        fieldPath: `spec.containers{${pod.container}}`,
      },
      reason: 'BackOff',
      message: `Back-off restarting failed container ${pod.container} in pod ${pod.name}`,
      type: 'Warning',
      count: 4,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'kubelet', host: 'kwok-node-0' },
    },
  });
}

/**
 * Until `signal` aborts, takes each new pod of the release that cannot be
 * scheduled (it asks for more than the node has), sets it crashing
 * ({@link makePodCrashLoop}, with a pod IP so KWOK leaves it so) and binds
 * it to the KWOK node, as if it had started there and crashed: its
 * container's logs (KWOK's fixture lines) can then be read. Returns the
 * pods it took.
 */
export async function crashUnschedulableReleasePods(
  connection: ClusterConnection,
  namespace: string,
  releaseName: string,
  signal: AbortSignal,
): Promise<string[]> {
  const core = connection.makeApiClient(CoreV1Api);
  const done: string[] = [];
  while (!signal.aborted) {
    const pods = await core
      .listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${releaseName}`,
      })
      .catch(() => ({ items: [] }));
    for (const pod of pods.items) {
      const name = pod.metadata?.name;
      if (!name || done.includes(name) || pod.spec?.nodeName) continue;
      if (pod.metadata?.deletionTimestamp) continue;
      await makePodCrashLoop(
        connection,
        namespace,
        {
          name,
          uid: pod.metadata?.uid,
          container: pod.spec?.containers[0]?.name ?? 'web',
        },
        { podIP: `10.0.250.${done.length + 1}` },
      );
      await core.createNamespacedBinding({
        namespace,
        body: {
          metadata: { name },
          target: { apiVersion: 'v1', kind: 'Node', name: 'kwok-node-0' },
        },
      });
      done.push(name);
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  return done;
}
