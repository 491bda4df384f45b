import { AppsV1Api } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection } from './ClusterConnection';
import { workloadHealth } from './workloadHealth';

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
    if (workloads.length === 0) {
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
          if (
            !reportedErrors.has(result.error) &&
            reportedErrors.size < MAX_REPORTED_ERRORS
          ) {
            reportedErrors.add(result.error);
            emit(`Could not read the rollout status: ${result.error}`);
          }
          continue;
        }
        if (line !== undefined && lastLines.get(key) !== line) {
          lastLines.set(key, line);
          emit(line);
        }
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
