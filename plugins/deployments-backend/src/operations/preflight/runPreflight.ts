import { InputError } from '@backstage/errors';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  ClusterConnection,
  ClusterRequestError,
} from '../../cluster/ClusterConnection';
import { ClusterDiscovery } from '../../cluster/ClusterDiscovery';
import { isDns1123Label } from '../../targets/namespaceBoundary';
import { RequiredAccess } from './requiredAccess';
import { mapWithConcurrency } from '../../lib/mapWithConcurrency';

export interface PreflightCheck {
  /** e.g. 'reachability', 'namespace team-a', 'deployments.apps in team-a'. */
  name: string;
  passed: boolean;
  message: string;
  /** The RBAC rule that would make a failed access check pass, as YAML (apiGroups, resources, verbs). */
  missingRule?: string;
}

export interface PreflightResult {
  passed: boolean;
  checks: PreflightCheck[];
  serverVersion?: string;
  durationMs: number;
}

const DEFAULT_CONCURRENCY = 8;
const VERB_ORDER = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
];

function resourceName(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

function byVerbOrder(a: string, b: string): number {
  const rank = (verb: string) => {
    const index = VERB_ORDER.indexOf(verb);
    return index === -1 ? VERB_ORDER.length : index;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** A rule for a Role's (or ClusterRole's) rules list; flow sequences keep it short and valid YAML. */
function ruleYaml(group: string, resource: string, verbs: string[]): string {
  return [
    `apiGroups: ${JSON.stringify([group])}`,
    `resources: ${JSON.stringify([resource])}`,
    `verbs: ${JSON.stringify(verbs)}`,
  ]
    .join('\n')
    .replace(/","/g, '", "');
}

/**
 * Checks, with the target's own credentials and impersonation, that a
 * release can be applied: the server answers, the namespace exists (or may
 * be created), and every permission in `required` is granted, by one
 * SelfSubjectAccessReview each, a few at a time. Access results are grouped
 * per resource and namespace, naming every missing verb and the rule to add.
 * Never throws for cluster problems; they become failed checks whose
 * messages contain no credentials.
 *
 * @throws InputError when the namespace or the concurrency is invalid
 */
export async function runPreflight(options: {
  connection: ClusterConnection;
  /** When given, verbs a resource does not serve are not asked for. */
  discovery?: Pick<ClusterDiscovery, 'resources'>;
  releaseNamespace: string;
  createNamespace: boolean;
  required: RequiredAccess[];
  /** Per request; 10 s by default. */
  timeoutMs?: number;
  /** Access reviews in flight at once; 8 by default. */
  concurrency?: number;
}): Promise<PreflightResult> {
  const { connection, discovery, releaseNamespace, createNamespace } = options;
  if (!isDns1123Label(releaseNamespace)) {
    throw new InputError(
      `${JSON.stringify(releaseNamespace)} is not a valid namespace name`,
    );
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InputError('concurrency must be a positive whole number');
  }
  const requestOptions =
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const started = performance.now();
  const finish = (
    checks: PreflightCheck[],
    serverVersion?: string,
  ): PreflightResult => ({
    passed: checks.every(check => check.passed),
    checks,
    ...(serverVersion !== undefined && { serverVersion }),
    durationMs: Math.round(performance.now() - started),
  });

  const checks: PreflightCheck[] = [];
  let serverVersion: string | undefined;
  try {
    const version = await connection.getVersion(requestOptions);
    serverVersion = version.gitVersion;
    checks.push({
      name: 'reachability',
      passed: true,
      message: `${connection.server} answered (Kubernetes ${serverVersion}, ${version.latencyMs} ms)`,
    });
  } catch (error) {
    const problem = connection.describeError(error);
    if (!problem.serverAnswered || problem.kind === 'unauthorized') {
      // Nothing else can be checked; one clear failure says why.
      return finish([
        {
          name: 'reachability',
          passed: false,
          message: problem.serverAnswered
            ? `${connection.server} answered, but ${problem.message}`
            : problem.message,
        },
      ]);
    }
    // Some clusters hide /version; the rest can still be checked.
    checks.push({
      name: 'reachability',
      passed: true,
      message: `${connection.server} answered; its version is unknown (${problem.message})`,
    });
  }

  checks.push(
    await checkNamespace(
      connection,
      releaseNamespace,
      createNamespace,
      requestOptions,
    ),
  );
  if (options.required.length === 0) {
    // Every release needs at least helm's storage; an empty list means the caller could not work it out.
    checks.push({
      name: 'access',
      passed: false,
      message:
        'the permissions this release needs could not be determined, so none were checked',
    });
  }
  checks.push(
    ...(await checkAccess(
      connection,
      withServedVerbs(options.required, discovery),
      concurrency,
      requestOptions,
    )),
  );
  return finish(checks, serverVersion);
}

/** Drops verbs that discovery says a resource does not serve: no request can need them. */
function withServedVerbs(
  required: RequiredAccess[],
  discovery: Pick<ClusterDiscovery, 'resources'> | undefined,
): RequiredAccess[] {
  if (!discovery) {
    return required;
  }
  const served = new Map<string, Set<string>>();
  for (const resource of discovery.resources) {
    const key = `${resource.group}/${resource.resource}`;
    const verbs = served.get(key) ?? new Set<string>();
    resource.verbs.forEach(verb => verbs.add(verb));
    served.set(key, verbs);
  }
  return required.filter(access => {
    const verbs = served.get(`${access.group}/${access.resource}`);
    return !verbs || verbs.size === 0 || verbs.has(access.verb);
  });
}

/**
 * With create-namespace, helm's install creates (or, server-side, applies)
 * the namespace even when it exists, and fails on anything but "already
 * exists"; so the credentials need both verbs whenever the option is on.
 */
const CREATE_NAMESPACE_VERBS = ['create', 'patch'];

async function checkNamespace(
  connection: ClusterConnection,
  namespace: string,
  createNamespace: boolean,
  requestOptions: { timeoutMs?: number },
): Promise<PreflightCheck> {
  const name = `namespace ${namespace}`;
  let state: 'exists' | 'missing' | 'unknown';
  try {
    await connection
      .makeApiClient(CoreV1Api, requestOptions)
      .readNamespace({ name: namespace });
    state = 'exists';
  } catch (error) {
    const problem = connection.describeError(error);
    if (problem.statusCode === 404) {
      state = 'missing';
    } else if (problem.kind === 'forbidden') {
      // Namespaced credentials often may not read Namespace objects; the access checks still tell.
      state = 'unknown';
    } else {
      return {
        name,
        passed: false,
        message: `could not check the namespace: ${problem.message}`,
      };
    }
  }

  if (!createNamespace) {
    switch (state) {
      case 'exists':
        return { name, passed: true, message: `namespace ${namespace} exists` };
      case 'missing':
        return {
          name,
          passed: false,
          message: `namespace ${namespace} does not exist; create it, or let the release create it`,
        };
      default:
        return {
          name,
          passed: true,
          message: `these credentials may not read namespaces, so namespace ${namespace} is assumed to exist`,
        };
    }
  }

  let missing: string[];
  try {
    const reviews = await Promise.all(
      CREATE_NAMESPACE_VERBS.map(verb =>
        connection.canI(
          { group: '', resource: 'namespaces', verb },
          requestOptions,
        ),
      ),
    );
    missing = CREATE_NAMESPACE_VERBS.filter(
      (_verb, index) => !reviews[index].allowed,
    );
  } catch (error) {
    return {
      name,
      passed: false,
      message: `could not check whether namespaces may be created: ${
        connection.describeError(error).message
      }`,
    };
  }
  if (missing.length === 0) {
    const messages = {
      exists: `namespace ${namespace} exists`,
      missing: `namespace ${namespace} does not exist and will be created`,
      unknown: `these credentials may not read namespaces; namespace ${namespace} will be created if it is missing`,
    };
    return { name, passed: true, message: messages[state] };
  }
  const verbs = missing.join(', ');
  return {
    name,
    passed: false,
    message:
      state === 'missing'
        ? `namespace ${namespace} does not exist and these credentials may not ${verbs} namespaces; create it, or add this rule to a ClusterRole bound to them`
        : `create-namespace is on, so helm's install will ${verbs} namespace ${namespace} even though it may exist, and these credentials may not; turn create-namespace off, or add this rule to a ClusterRole bound to them`,
    missingRule: ruleYaml('', 'namespaces', missing),
  };
}

interface AccessGroup {
  group: string;
  resource: string;
  namespace?: string;
  verbs: string[];
}

async function checkAccess(
  connection: ClusterConnection,
  required: RequiredAccess[],
  concurrency: number,
  requestOptions: { timeoutMs?: number },
): Promise<PreflightCheck[]> {
  const groups = new Map<string, AccessGroup>();
  for (const access of required) {
    const namespace = access.clusterScoped ? undefined : access.namespace;
    const key = JSON.stringify([
      access.group,
      access.resource,
      namespace ?? null,
    ]);
    const group = groups.get(key) ?? {
      group: access.group,
      resource: access.resource,
      ...(namespace !== undefined && { namespace }),
      verbs: [],
    };
    if (!group.verbs.includes(access.verb)) {
      group.verbs.push(access.verb);
    }
    groups.set(key, group);
  }
  const tasks = [...groups.values()].flatMap(group =>
    group.verbs.map(verb => ({ group, verb })),
  );

  let gaveUp: string | undefined;
  const outcomes = await mapWithConcurrency(
    tasks,
    concurrency,
    async ({ group, verb }): Promise<{ allowed: boolean; error?: string }> => {
      if (gaveUp !== undefined) {
        return { allowed: false, error: gaveUp };
      }
      try {
        const review = await connection.canI(
          {
            group: group.group,
            resource: group.resource,
            verb,
            ...(group.namespace !== undefined && {
              namespace: group.namespace,
            }),
          },
          requestOptions,
        );
        return { allowed: review.allowed };
      } catch (error) {
        const problem: ClusterRequestError = connection.describeError(error);
        // When the server stops answering, the remaining reviews would each wait for their own timeout.
        if (!problem.serverAnswered) {
          gaveUp = problem.message;
        }
        return { allowed: false, error: problem.message };
      }
    },
  );

  return [...groups.values()].map(group => {
    const results = tasks
      .map((task, index) => ({ task, outcome: outcomes[index] }))
      .filter(({ task }) => task.group === group);
    const where =
      group.namespace !== undefined
        ? `in ${group.namespace}`
        : '(cluster-wide)';
    const name = `${resourceName(group.group, group.resource)} ${where}`;
    const error = results.find(({ outcome }) => outcome.error)?.outcome.error;
    if (error !== undefined) {
      return {
        name,
        passed: false,
        message: `could not check access to ${name}: ${error}`,
      };
    }
    const missing = results
      .filter(({ outcome }) => !outcome.allowed)
      .map(({ task }) => task.verb)
      .sort(byVerbOrder);
    const verbs = [...group.verbs].sort(byVerbOrder);
    if (missing.length === 0) {
      return {
        name,
        passed: true,
        message: `may ${verbs.join(', ')} ${name}`,
      };
    }
    const holder =
      group.namespace !== undefined
        ? `a Role in ${group.namespace} (or a ClusterRole) bound to the credentials`
        : 'a ClusterRole bound to the credentials';
    return {
      name,
      passed: false,
      message: `may not ${missing.join(
        ', ',
      )} ${name}; add this rule to ${holder}`,
      missingRule: ruleYaml(group.group, group.resource, missing),
    };
  });
}
