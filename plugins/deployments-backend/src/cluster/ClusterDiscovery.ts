import { InputError } from '@backstage/errors';
import {
  ApiException,
  ApiType,
  Configuration,
  HttpMethod,
} from '@kubernetes/client-node';
import { ScopeLookup } from '../targets/namespaceBoundary';
import { ClusterConnection, ClusterRequestError } from './ClusterConnection';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';

/** One kind the API server serves, as discovery describes it. */
export interface DiscoveredResource {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The plural resource name used in URLs and RBAC rules, e.g. 'deployments'. */
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

/** A group-version whose resources could not be listed; its kinds count as unknown. */
export interface DiscoveryFailure {
  groupVersion: string;
  message: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const GROUP_CONCURRENCY = 16;
// Real clusters serve a few dozen group-versions; far more means something is wrong.
const MAX_GROUP_VERSIONS = 1000;
/** Aggregated discovery (GA in Kubernetes 1.30) returns every resource in two requests. */
const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9';
const LEGACY_ACCEPT = 'application/json';

/**
 * Receives the connection's configuration, so that raw discovery requests go
 * through the same transport as every other request: deadline, size limit,
 * impersonation and credential redaction.
 */
class DiscoveryClient implements ApiType {
  readonly #configuration: Configuration;

  constructor(configuration: Configuration) {
    this.#configuration = configuration;
  }

  async getJson(path: string, accept: string): Promise<{ body: unknown }> {
    const configuration = this.#configuration;
    const request = configuration.baseServer.makeRequestContext(
      path,
      HttpMethod.GET,
    );
    request.setHeaderParam('Accept', accept);
    await configuration.authMethods.default?.applySecurityAuthentication(
      request,
    );
    const response = await configuration.httpApi.send(request).toPromise();
    const body = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      // Shaped like a generated client's error so describeError reads the Status message.
      throw new ApiException(
        response.httpStatusCode,
        `GET ${path} failed`,
        body,
        response.headers,
      );
    }
    try {
      return { body: JSON.parse(body) };
    } catch {
      throw new ClusterRequestError(
        `the API server answered ${path} with something that is not JSON`,
        'response',
        response.httpStatusCode,
      );
    }
  }
}

/**
 * The kinds a cluster serves, from its API discovery: which plural resource
 * each kind maps to, whether it is namespaced, and which verbs it supports.
 * Load it once per operation; the catalog does not refresh itself.
 */
export class ClusterDiscovery {
  readonly #byKind: Map<string, DiscoveredResource>;
  readonly #resources: DiscoveredResource[];
  readonly #failures: DiscoveryFailure[];

  private constructor(
    resources: DiscoveredResource[],
    failures: DiscoveryFailure[],
  ) {
    this.#resources = resources;
    this.#failures = failures;
    this.#byKind = new Map();
    for (const resource of resources) {
      const key = kindKey(resource.group, resource.version, resource.kind);
      // The first mapping wins, as in kubectl's RESTMapper.
      if (!this.#byKind.has(key)) {
        this.#byKind.set(key, resource);
      }
    }
  }

  /**
   * Reads the API server's discovery: aggregated discovery when the server
   * offers it (two requests), otherwise /api, /apis and every group-version's
   * resource list, fetched in parallel. A group-version that cannot be listed
   * (typically an unavailable aggregated API) is recorded in `failures` and
   * its kinds stay unknown, which callers must treat as refused.
   *
   * @throws ClusterRequestError when /api or /apis cannot be read
   */
  static async create(options: {
    connection: ClusterConnection;
    /** Per request; 10 s by default. */
    timeoutMs?: number;
    /** false skips aggregated discovery; for servers older than 1.26 and for tests. */
    aggregated?: boolean;
  }): Promise<ClusterDiscovery> {
    const { connection, aggregated = true } = options;
    const client = connection.makeApiClient(DiscoveryClient, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const get = async (path: string, accept: string) => {
      try {
        return await client.getJson(path, accept);
      } catch (error) {
        throw connection.describeError(error);
      }
    };

    const accept = aggregated ? AGGREGATED_ACCEPT : LEGACY_ACCEPT;
    let [core, groups] = await Promise.all([
      get('/api', accept).then(response => response.body),
      get('/apis', accept).then(response => response.body),
    ]);
    if (isAggregated(core) && isAggregated(groups)) {
      return new ClusterDiscovery(
        [...readAggregated(core, true), ...readAggregated(groups, false)],
        [],
      );
    }
    // A server (or proxy) that aggregates only one of the two is read the legacy way throughout.
    if (isAggregated(core)) {
      core = (await get('/api', LEGACY_ACCEPT)).body;
    }
    if (isAggregated(groups)) {
      groups = (await get('/apis', LEGACY_ACCEPT)).body;
    }

    const groupVersions = [
      ...readCoreVersions(core).map(version => ({
        path: `/api/${version}`,
        groupVersion: version,
      })),
      ...readGroupVersions(groups).map(groupVersion => ({
        path: `/apis/${groupVersion}`,
        groupVersion,
      })),
    ];
    if (groupVersions.length > MAX_GROUP_VERSIONS) {
      throw new ClusterRequestError(
        `the API server lists more than ${MAX_GROUP_VERSIONS} API group versions`,
        'response',
      );
    }
    const failures: DiscoveryFailure[] = [];
    const lists = await mapWithConcurrency(
      groupVersions,
      GROUP_CONCURRENCY,
      async ({ path, groupVersion }) => {
        try {
          return readResourceList(
            (await get(path, LEGACY_ACCEPT)).body,
            groupVersion,
          );
        } catch (error) {
          failures.push({
            groupVersion,
            message: connection.describeError(error).message,
          });
          return [];
        }
      },
    );
    return new ClusterDiscovery(lists.flat(), failures);
  }

  /** A catalog from known resources, for code that already has them (and for tests). */
  static fromResources(resources: DiscoveredResource[]): ClusterDiscovery {
    for (const resource of resources) {
      if (!resource.kind || !resource.resource || !resource.version) {
        throw new InputError('a resource needs a kind, resource and version');
      }
    }
    return new ClusterDiscovery(
      resources.map(resource => ({ ...resource, verbs: [...resource.verbs] })),
      [],
    );
  }

  /** Every resource discovered, subresources excluded. */
  get resources(): readonly DiscoveredResource[] {
    return this.#resources;
  }

  /** Group-versions that could not be read; their kinds are unknown. */
  get failures(): readonly DiscoveryFailure[] {
    return this.#failures;
  }

  /** Scope of a kind, or undefined when the cluster does not serve it. Bound, so it can be passed around. */
  readonly scopeOf: ScopeLookup = (group, version, kind) => {
    const resource = this.resourceOf(group, version, kind);
    if (!resource) {
      return undefined;
    }
    return resource.namespaced ? 'Namespaced' : 'Cluster';
  };

  /** The resource serving a kind in a group-version, or undefined when the cluster does not serve it. */
  resourceOf(
    group: string,
    version: string,
    kind: string,
  ): DiscoveredResource | undefined {
    return this.#byKind.get(kindKey(group, version, kind));
  }
}

function kindKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function isAggregated(body: unknown): boolean {
  return isRecord(body) && body.kind === 'APIGroupDiscoveryList';
}

/** Reads an apidiscovery.k8s.io/v2 APIGroupDiscoveryList. */
function readAggregated(body: unknown, core: boolean): DiscoveredResource[] {
  const resources: DiscoveredResource[] = [];
  for (const group of records(isRecord(body) ? body.items : undefined)) {
    const metadata = isRecord(group.metadata) ? group.metadata : {};
    const groupName = core ? '' : text(metadata.name);
    if (groupName === undefined) {
      continue;
    }
    for (const version of records(group.versions)) {
      const versionName = text(version.version);
      if (!versionName) {
        continue;
      }
      for (const entry of records(version.resources)) {
        const responseKind = isRecord(entry.responseKind)
          ? entry.responseKind
          : {};
        const resource = text(entry.resource);
        const kind = text(responseKind.kind);
        if (!resource || !kind) {
          continue;
        }
        resources.push({
          group: groupName,
          version: versionName,
          kind,
          resource,
          namespaced: entry.scope === 'Namespaced',
          verbs: strings(entry.verbs),
        });
      }
    }
  }
  return resources;
}

/** Versions of the core group from /api (an APIVersions object). */
function readCoreVersions(body: unknown): string[] {
  return isRecord(body)
    ? strings(body.versions).filter(version => /^v\d/.test(version))
    : [];
}

/** Every served group-version from /apis (an APIGroupList). */
function readGroupVersions(body: unknown): string[] {
  const groupVersions: string[] = [];
  for (const group of records(isRecord(body) ? body.groups : undefined)) {
    for (const version of records(group.versions)) {
      const groupVersion = text(version.groupVersion);
      // Used as a URL path: only plain names.
      if (groupVersion && /^[a-z0-9.-]+\/[a-z0-9]+$/.test(groupVersion)) {
        groupVersions.push(groupVersion);
      }
    }
  }
  return groupVersions;
}

/** Reads an APIResourceList, leaving subresources such as 'deployments/status' out. */
function readResourceList(
  body: unknown,
  groupVersion: string,
): DiscoveredResource[] {
  const [group, version] = groupVersion.includes('/')
    ? groupVersion.split('/')
    : ['', groupVersion];
  const resources: DiscoveredResource[] = [];
  for (const entry of records(isRecord(body) ? body.resources : undefined)) {
    const name = text(entry.name);
    const kind = text(entry.kind);
    if (!name || !kind || name.includes('/')) {
      continue;
    }
    resources.push({
      group: typeof entry.group === 'string' ? entry.group : group,
      version: text(entry.version) ?? version,
      kind,
      resource: name,
      namespaced: entry.namespaced === true,
      verbs: strings(entry.verbs),
    });
  }
  return resources;
}
