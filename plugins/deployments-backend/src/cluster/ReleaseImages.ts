import {
  KubernetesObject,
  KubernetesObjectApi,
  V1PodSpec,
} from '@kubernetes/client-node';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection } from './ClusterConnection';

/** One container of a live workload and the image it runs. */
export interface RunningImage {
  /** 'Kind/name' of the workload, e.g. 'Deployment/hello'. */
  workload: string;
  /** The workload's kind, as `kubectl set image` names it (lower case). */
  resource: string;
  container: string;
  /** An init container, which `kubectl set image` addresses like the others. */
  init: boolean;
  /** The image exactly as the live spec names it. */
  image: string;
}

/** Kinds, as 'group/Kind', and where each keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  '/Pod': ['spec'],
};

const READ_CONCURRENCY = 6;

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

function podSpecOf(
  object: KubernetesObject,
  path: string[],
): V1PodSpec | undefined {
  let node: unknown = object;
  for (const key of path) {
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return node && typeof node === 'object' ? (node as V1PodSpec) : undefined;
}

/**
 * The images the release's workloads run now, read from their live specs in
 * the release namespace (init containers included). The specs say what the
 * pods run even where nothing pulls images. A workload that no longer exists
 * is left out; a cluster that cannot be read throws.
 *
 * @throws ClusterRequestError
 */
export async function readReleaseImages(options: {
  connection: ClusterConnection;
  namespace: string;
  /** The release's objects, e.g. parsed from `helm get manifest`. */
  objects: ReadonlyArray<ManifestObject>;
}): Promise<RunningImage[]> {
  const { connection, namespace } = options;
  const workloads = options.objects.filter(
    object =>
      object.apiVersion &&
      object.kind &&
      object.metadata?.name &&
      (object.metadata.namespace ?? namespace) === namespace &&
      POD_SPEC_PATHS[`${groupOf(object.apiVersion)}/${object.kind}`],
  );
  const api = connection.makeApiClient(KubernetesObjectApi);
  const found = await mapWithConcurrency(
    workloads,
    READ_CONCURRENCY,
    async object => {
      const kind = object.kind!;
      const name = object.metadata!.name!;
      let live: KubernetesObject;
      try {
        live = await api.read({
          apiVersion: object.apiVersion!,
          kind,
          metadata: { name, namespace },
        });
      } catch (error) {
        const described = connection.describeError(error);
        if (described.statusCode === 404) return [];
        throw described;
      }
      const spec = podSpecOf(
        live,
        POD_SPEC_PATHS[`${groupOf(object.apiVersion!)}/${kind}`],
      );
      const containers = [
        ...(spec?.initContainers ?? []).map(c => ({ c, init: true })),
        ...(spec?.containers ?? []).map(c => ({ c, init: false })),
      ];
      return containers.flatMap(({ c, init }) =>
        c.image
          ? [
              {
                workload: `${kind}/${name}`,
                resource: kind.toLowerCase(),
                container: c.name,
                init,
                image: c.image,
              },
            ]
          : [],
      );
    },
  );
  return found.flat();
}
