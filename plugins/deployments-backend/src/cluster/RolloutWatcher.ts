import { RolloutDiagnosis } from '@kubedeploy/plugin-deployments-common';
import { AppsV1Api } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection } from './ClusterConnection';
import { workloadHealth } from './workloadHealth';
import { LogTailCache, readRolloutDiagnosis } from './RolloutDiagnosis';

const DEFAULT_INTERVAL_MS = 2_000;
const MIN_INTERVAL_MS = 100;
const WATCHED_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
/** Repeated failures are reported once each, up to this many different ones. */
const MAX_REPORTED_ERRORS = 5;

export interface WatchRolloutOptions {
  connection: ClusterConnection;
  namespace: string;
  /** The release's objects; its Deployments, StatefulSets and DaemonSets in `namespace` are watched. */
  objects: ReadonlyArray<ManifestObject>;
  /** Receives one progress line whenever a workload's state changes. */
  onLine: (line: string) => void;
  /** Stops the watch. */
  signal: AbortSignal;
  /** Between polls; 2 s by default. */
  intervalMs?: number;
  /**
   * With the release name, each poll also reads the release's pods, events
   * and failing containers' logs: changes become lines ("Pod x: container
   * web: CrashLoopBackOff, 3 restarts", "Warning BackOff on Pod/x: ..."),
   * and every picture goes to `onDiagnosis`.
   */
  diagnosis?: {
    releaseName: string;
    /** Events older than this are an earlier revision's. */
    since: Date;
    onDiagnosis: (diagnosis: RolloutDiagnosis) => void;
  };
}

/**
 * Reports the rollout of a release's workloads while an apply runs, e.g.
 * "Deployment hello: 1/2 ready, 2 updated", by polling them and emitting a
 * line only when something changed. Resolves when `signal` aborts (or at
 * once when there is nothing to watch); never rejects: failures become lines.
 */
export async function watchRollout(
  options: WatchRolloutOptions,
): Promise<void> {
  const { connection, namespace, signal } = options;
  const emit = (line: string) => {
    try {
      options.onLine(line);
    } catch {
      // A failing listener must not end the watch or reach the apply.
    }
  };
  try {
    const workloads = watchedWorkloads(options.objects, namespace);
    if (workloads.length === 0 && !options.diagnosis) {
      return;
    }
    const intervalMs = Math.max(
      MIN_INTERVAL_MS,
      options.intervalMs ?? DEFAULT_INTERVAL_MS,
    );
    const apps = connection.makeApiClient(AppsV1Api, {
      timeoutMs: Math.max(intervalMs * 2, 5_000),
    });
    const lastLines = new Map<string, string>();
    const reportedErrors = new Set<string>();
    const report = (error: string) => {
      if (
        !reportedErrors.has(error) &&
        reportedErrors.size < MAX_REPORTED_ERRORS
      ) {
        reportedErrors.add(error);
        emit(`Could not read the rollout status: ${error}`);
      }
    };
    const diagnose = options.diagnosis
      ? diagnosisReporter({
          ...options.diagnosis,
          connection,
          namespace,
          objects: options.objects,
          emit,
          report,
          signal,
          timeoutMs: Math.max(intervalMs * 2, 5_000),
        })
      : undefined;

    while (!signal.aborted) {
      const results = await Promise.all(
        workloads.map(async ({ kind, name }) => {
          try {
            return {
              kind,
              name,
              line: await rolloutLine(apps, namespace, kind, name),
            };
          } catch (error) {
            const described = connection.describeError(error);
            if (described.statusCode === 404) {
              // Not created yet (or removed): only worth a line once it existed.
              return { kind, name, line: undefined, missing: true };
            }
            return { kind, name, line: undefined, error: described.message };
          }
        }),
      );
      if (signal.aborted) {
        break;
      }
      for (const result of results) {
        const key = `${result.kind}/${result.name}`;
        let line = result.line;
        if (result.missing && lastLines.has(key)) {
          line = `${result.kind} ${result.name}: deleted`;
        }
        if (result.error !== undefined) {
          report(result.error);
          continue;
        }
        if (line !== undefined && lastLines.get(key) !== line) {
          lastLines.set(key, line);
          emit(line);
        }
      }
      if (diagnose) {
        await diagnose();
      }
      try {
        await sleep(intervalMs, undefined, { signal });
      } catch {
        break;
      }
    }
  } catch (error) {
    emit(
      `Rollout progress stopped: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}

/** Reads a diagnosis per call and emits what changed since the last one. */
function diagnosisReporter(options: {
  connection: ClusterConnection;
  namespace: string;
  releaseName: string;
  objects: ReadonlyArray<ManifestObject>;
  since: Date;
  onDiagnosis: (diagnosis: RolloutDiagnosis) => void;
  emit: (line: string) => void;
  report: (error: string) => void;
  signal: AbortSignal;
  /** A read that takes longer is given up (the API server may hang). */
  timeoutMs: number;
}): () => Promise<void> {
  const logCache: LogTailCache = new Map();
  const podLines = new Map<string, string>();
  const seenEvents = new Map<string, number>();
  return async () => {
    let diagnosis: RolloutDiagnosis;
    try {
      diagnosis = await within(
        readRolloutDiagnosis({ ...options, logCache }),
        options.signal,
        options.timeoutMs,
      );
    } catch (error) {
      if (options.signal.aborted) return;
      options.report(options.connection.describeError(error).message);
      return;
    }
    for (const pod of diagnosis.pods) {
      const line = `Pod ${pod.name}: ${pod.health}${
        pod.restarts > 0
          ? `, ${pod.restarts} ${pod.restarts === 1 ? 'restart' : 'restarts'}`
          : ''
      }`;
      if (podLines.get(pod.name) !== line) {
        podLines.set(pod.name, line);
        options.emit(line);
      }
    }
    // Oldest first, as they happened.
    for (const event of [...diagnosis.events].reverse()) {
      const key = `${event.object}|${event.type}|${event.reason}|${event.message}`;
      if (seenEvents.has(key)) continue;
      seenEvents.set(key, event.count);
      options.emit(
        `${event.type} ${event.reason} on ${event.object}: ${event.message}`,
      );
    }
    try {
      options.onDiagnosis(diagnosis);
    } catch {
      // A failing listener must not end the watch.
    }
  };
}

/** The promise's value, unless the signal aborts or the time runs out first. */
async function within<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  ms: number,
): Promise<T> {
  const controller = new AbortController();
  const stopped = AbortSignal.any([signal, controller.signal]);
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: stopped }).then(() => {
        throw new Error(`no answer within ${ms / 1000} s`);
      }),
    ]);
  } finally {
    // Ends the timer (its rejection is the race's loser and ignored).
    controller.abort();
  }
}

function watchedWorkloads(
  objects: ReadonlyArray<ManifestObject>,
  namespace: string,
): Array<{ kind: string; name: string }> {
  const seen = new Set<string>();
  const workloads: Array<{ kind: string; name: string }> = [];
  for (const object of objects) {
    const kind = object.kind;
    const name = object.metadata?.name;
    if (
      object.apiVersion !== 'apps/v1' ||
      kind === undefined ||
      !WATCHED_KINDS.has(kind) ||
      typeof name !== 'string' ||
      !name ||
      (object.metadata?.namespace !== undefined &&
        object.metadata.namespace !== namespace)
    ) {
      continue;
    }
    const key = `${kind}/${name}`;
    if (!seen.has(key)) {
      seen.add(key);
      workloads.push({ kind, name });
    }
  }
  return workloads;
}

async function rolloutLine(
  apps: AppsV1Api,
  namespace: string,
  kind: string,
  name: string,
): Promise<string> {
  const request = { name, namespace };
  let object: unknown;
  switch (kind) {
    case 'Deployment':
      object = await apps.readNamespacedDeployment(request);
      break;
    case 'StatefulSet':
      object = await apps.readNamespacedStatefulSet(request);
      break;
    default:
      object = await apps.readNamespacedDaemonSet(request);
  }
  const { replicas, health } = workloadHealth(kind, object);
  let line = `${kind} ${name}: ${replicas.ready}/${replicas.desired} ready, ${replicas.updated} updated`;
  // The health message adds what the numbers do not say, e.g. a missed deadline.
  const extra = health.message.split('; ').slice(1);
  if (extra.length > 0) {
    line += `; ${extra.join('; ')}`;
  }
  return line;
}
