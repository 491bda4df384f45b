import { InputError } from '@backstage/errors';
import {
  AppsV1Api,
  BatchV1Api,
  HttpMethod,
  KubernetesObject,
  KubernetesObjectApi,
  V1LabelSelector,
} from '@kubernetes/client-node';
import { isDns1123Label, ManifestObject } from '../targets/namespaceBoundary';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';

export const READ_CONCURRENCY = 6;
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
export class ReleaseObjectApi extends KubernetesObjectApi {
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

/** A reference to one object of the manifest, validated. */
export interface ObjectRef {
  apiVersion: string;
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ReadResult {
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

/** The valid, distinct object references of a manifest; what is left out is said in `warnings`. */
export function manifestRefs(
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

export function isWorkload(ref: ObjectRef): boolean {
  return WORKLOAD_KINDS.has(`${ref.group}/${ref.kind}`);
}

export function inNamespace(ref: ObjectRef, namespace: string): boolean {
  return ref.namespace === undefined || ref.namespace === namespace;
}

function describeRef(ref: ObjectRef): string {
  return `${ref.apiVersion} ${ref.kind}`;
}

/** Reads one object of the release; Secrets as metadata only. */
export async function readObject(
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

export async function readWorkload(
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
