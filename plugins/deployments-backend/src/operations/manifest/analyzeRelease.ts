import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import {
  BoundaryViolation,
  inspectManifestBoundary,
  ManifestObject,
  NamespaceBoundary,
} from '../../targets/namespaceBoundary';
import { RenderedObject } from './parseRenderedRelease';

/** Something an operator should know before applying, which does not block the release. */
export interface ReleaseWarning {
  /** e.g. 'apps/v1 Deployment team-a/hello'. */
  object: string;
  /** Stable, for filtering and tests: see WARNING_CODES. */
  code: string;
  message: string;
}

export interface ReleaseAnalysis {
  /** Non-empty means the release must not be applied. */
  violations: BoundaryViolation[];
  warnings: ReleaseWarning[];
}

export const WARNING_CODES = [
  'no-readiness-probe',
  'max-unavailable',
  'no-resource-limits',
  'image-tag-latest',
  'image-tag-missing',
  'privileged',
  'may-run-as-root',
  'host-path',
  'host-network',
  'host-pid',
  'host-ipc',
  'other-allowed-namespace',
] as const;

type Code = (typeof WARNING_CODES)[number];
type Json = Record<string, unknown>;

/**
 * Checks a rendered release, manifest and hooks alike, against the target's
 * boundary (kinds the cluster does not serve are refused), and lists the
 * risky settings of every pod template.
 */
export function analyzeRelease(options: {
  objects: RenderedObject[];
  boundary: NamespaceBoundary;
  releaseNamespace: string;
  discovery: Pick<ClusterDiscovery, 'scopeOf'>;
}): ReleaseAnalysis {
  const { objects, boundary, releaseNamespace, discovery } = options;
  const { violations, otherNamespaceObjects } = inspectManifestBoundary({
    boundary,
    releaseNamespace,
    // inspectManifestBoundary checks the shape itself; rendered objects are not trusted.
    objects: objects.map(({ object }) => object as ManifestObject),
    scopeOf: discovery.scopeOf,
  });
  // Allowed, but outside the release namespace: the dry-run says so for each object.
  const warnings: ReleaseWarning[] = otherNamespaceObjects.map(
    ({ object, namespace }) => ({
      object,
      code: 'other-allowed-namespace' satisfies Code,
      message: `in namespace ${JSON.stringify(
        namespace,
      )}, not the release namespace ${JSON.stringify(
        releaseNamespace,
      )}: allowed because the target lets charts place objects in its other allowed namespaces`,
    }),
  );
  for (const { object } of objects) {
    warnings.push(...workloadWarnings(object, releaseNamespace));
  }
  return { violations, warnings };
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown): Json {
  return isRecord(value) ? value : {};
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** Where a kind keeps its pod spec, and whether its pods are meant to keep running. */
function podSpecOf(
  object: Json,
): { spec: Json; longRunning: boolean } | undefined {
  const apiVersion =
    typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const spec = record(object.spec);
  const template = (owner: Json) => record(record(owner.template).spec);
  switch (`${group}/${String(object.kind)}`) {
    case 'apps/Deployment':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
    case 'apps/ReplicaSet':
    case '/ReplicationController':
      return { spec: template(spec), longRunning: true };
    case '/Pod':
      return {
        spec,
        longRunning: (spec.restartPolicy ?? 'Always') === 'Always',
      };
    case 'batch/Job':
      return { spec: template(spec), longRunning: false };
    case 'batch/CronJob':
      return {
        spec: template(record(record(spec.jobTemplate).spec)),
        longRunning: false,
      };
    default:
      return undefined;
  }
}

function describeObject(object: Json, releaseNamespace: string): string {
  const metadata = record(object.metadata);
  const namespace =
    typeof metadata.namespace === 'string' && metadata.namespace
      ? metadata.namespace
      : releaseNamespace;
  const name =
    typeof metadata.name === 'string' && metadata.name
      ? metadata.name
      : '<unnamed>';
  return `${String(object.apiVersion)} ${String(
    object.kind,
  )} ${namespace}/${name}`;
}

function workloadWarnings(
  object: Json,
  releaseNamespace: string,
): ReleaseWarning[] {
  const pod = podSpecOf(object);
  if (!pod) {
    return [];
  }
  const name = describeObject(object, releaseNamespace);
  const warnings: ReleaseWarning[] = [];
  const warn = (code: Code, message: string) =>
    warnings.push({ object: name, code, message });
  const { spec, longRunning } = pod;

  const containers = list(spec.containers);
  const initContainers = list(spec.initContainers);
  // Init containers with restartPolicy Always are sidecars: they run, and gate readiness, like containers.
  const running = [
    ...initContainers.filter(container => container.restartPolicy === 'Always'),
    ...containers,
  ];
  const label = (container: Json) =>
    `container ${JSON.stringify(
      typeof container.name === 'string' ? container.name : '<unnamed>',
    )}`;

  if (longRunning) {
    for (const container of running) {
      if (!isRecord(container.readinessProbe)) {
        warn(
          'no-readiness-probe',
          `${label(
            container,
          )} has no readinessProbe: it receives traffic, and the rollout counts it as ready, as soon as it starts`,
        );
      }
    }
  }
  if (object.kind === 'Deployment') {
    const unavailable = rolloutUnavailable(record(object.spec));
    if (unavailable) {
      warn('max-unavailable', unavailable);
    }
  }
  for (const container of running) {
    const limits = record(record(container.resources).limits);
    if (Object.keys(limits).length === 0) {
      warn(
        'no-resource-limits',
        `${label(
          container,
        )} sets no resource limits: it may take all the CPU and memory of its node`,
      );
    }
  }

  const podSecurity = record(spec.securityContext);
  for (const container of [...initContainers, ...containers]) {
    const image = container.image;
    if (typeof image === 'string' && image) {
      const tag = imageTag(image);
      if (tag === undefined) {
        warn(
          'image-tag-missing',
          `${label(
            container,
          )} uses image ${image} without a tag, which means :latest: what runs can change without a new release`,
        );
      } else if (tag === 'latest') {
        warn(
          'image-tag-latest',
          `${label(
            container,
          )} uses image ${image}: the latest tag moves, so what runs can change without a new release`,
        );
      }
    }
    const security = record(container.securityContext);
    if (security.privileged === true) {
      warn(
        'privileged',
        `${label(container)} runs privileged: it has full access to its node`,
      );
    }
    const rootProblem = rootRisk(security, podSecurity);
    if (rootProblem) {
      warn('may-run-as-root', `${label(container)} ${rootProblem}`);
    }
  }

  for (const volume of list(spec.volumes)) {
    if (isRecord(volume.hostPath)) {
      warn(
        'host-path',
        `volume ${JSON.stringify(String(volume.name))} mounts ${JSON.stringify(
          String(volume.hostPath.path),
        )} from the node's file system (hostPath)`,
      );
    }
  }
  if (spec.hostNetwork === true) {
    warn(
      'host-network',
      "the pods use their node's network (hostNetwork): they can reach and bind everything the node can",
    );
  }
  if (spec.hostPID === true) {
    warn('host-pid', 'the pods see every process of their node (hostPID)');
  }
  if (spec.hostIPC === true) {
    warn('host-ipc', "the pods share their node's IPC namespace (hostIPC)");
  }
  return warnings;
}

/** The tag of an image reference; undefined when it has none. A digest pins the image, so it counts as 'pinned'. */
function imageTag(image: string): string | undefined {
  if (image.includes('@')) {
    return 'pinned';
  }
  const colon = image.lastIndexOf(':');
  // A colon before the last '/' belongs to a registry port, as in localhost:5000/app.
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}

/**
 * Why a rolling update may take every pod of a Deployment down at once, if it
 * may. Kubernetes rounds a percentage maxUnavailable down, so the default 25%
 * keeps a single replica up; only an explicit value that resolves to at least
 * the replica count does not.
 */
function rolloutUnavailable(spec: Json): string | undefined {
  const strategy = record(spec.strategy);
  if (strategy.type === 'Recreate') {
    return undefined;
  }
  const replicas = spec.replicas ?? 1;
  if (typeof replicas !== 'number' || replicas < 1) {
    return undefined;
  }
  const value = record(strategy.rollingUpdate).maxUnavailable;
  let unavailable: number | undefined;
  if (typeof value === 'number') {
    unavailable = value;
  } else if (typeof value === 'string' && /^\d+%$/.test(value)) {
    unavailable = Math.floor((Number.parseInt(value, 10) * replicas) / 100);
  }
  if (unavailable === undefined || unavailable < replicas) {
    return undefined;
  }
  return replicas === 1
    ? `maxUnavailable ${value} with a single replica: every rollout stops the only pod before its replacement is ready`
    : `maxUnavailable ${value} with ${replicas} replicas: a rollout may stop every pod before their replacements are ready`;
}

/**
 * Whether a container may run as root. runAsNonRoot: true makes the kubelet
 * refuse root; a non-zero runAsUser avoids it; otherwise the image's user
 * applies, and that is often root. Container settings override the pod's.
 */
function rootRisk(security: Json, podSecurity: Json): string | undefined {
  const runAsUser = security.runAsUser ?? podSecurity.runAsUser;
  const runAsNonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
  if (runAsUser === 0) {
    return 'runs as root (runAsUser: 0)';
  }
  if (
    runAsNonRoot !== true &&
    !(typeof runAsUser === 'number' && runAsUser > 0)
  ) {
    return "may run as root: it sets neither runAsNonRoot: true nor a non-zero runAsUser, so the image's user applies";
  }
  return undefined;
}
