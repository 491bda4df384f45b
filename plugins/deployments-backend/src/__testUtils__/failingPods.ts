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
): Promise<void> {
  const core = connection.makeApiClient(CoreV1Api);
  const now = new Date();
  await core.patchNamespacedPodStatus(
    {
      name: pod.name,
      namespace,
      body: {
        status: {
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
 * Until `signal` aborts, makes every new pod of the release crash
 * ({@link makePodCrashLoop}); returns the pods it made fail.
 */
export async function crashReleasePods(
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
      // KWOK first marks it running (a podIP); the crash comes after.
      if (!name || done.includes(name) || !pod.status?.podIP) continue;
      if (pod.metadata?.deletionTimestamp) continue;
      await makePodCrashLoop(connection, namespace, {
        name,
        uid: pod.metadata?.uid,
        container: pod.spec?.containers[0]?.name ?? 'web',
      });
      done.push(name);
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  return done;
}
