import { InputError } from '@backstage/errors';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  isNamespaceAllowed,
  validateAllowlistPattern,
} from '../targets/namespaceBoundary';
import {
  AccessAttributes,
  ANONYMOUS_USER,
  ClusterConnection,
  ClusterRequestError,
} from './ClusterConnection';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';

/** One access check in one namespace; resource is 'pods/log' for a subresource. */
export interface ConnectionTestCheck {
  verb: string;
  group: string;
  resource: string;
  allowed: boolean;
}

export interface ConnectionTestNamespace {
  namespace: string;
  checks: ConnectionTestCheck[];
  /** Why some checks could not be run; those count as not allowed. */
  error?: string;
}

export interface ConnectionTestResult {
  /** Whether the API server answered at all, even if only to refuse the credentials. */
  reachable: boolean;
  serverVersion?: string;
  latencyMs?: number;
  /** The user the server takes the credentials (and impersonation) for, when it says. */
  identity?: string;
  /** Set when the server is unreachable or does not accept the credentials. */
  error?: string;
  rbac: ConnectionTestNamespace[];
  /** What limited the test, e.g. a pattern that could not be expanded or a capped namespace list. */
  warnings: string[];
  /** One line a person understands. */
  summary: string;
}

/** What installing or upgrading a typical Helm release needs in its namespace. */
const RELEASE_CHECKS: ReadonlyArray<Omit<AccessAttributes, 'namespace'>> = [
  { group: 'apps', resource: 'deployments', verb: 'create' },
  { group: 'apps', resource: 'deployments', verb: 'update' },
  { group: 'apps', resource: 'deployments', verb: 'delete' },
  { group: 'apps', resource: 'deployments', verb: 'get' },
  // Helm keeps its release records in Secrets.
  { group: '', resource: 'secrets', verb: 'create' },
  { group: '', resource: 'secrets', verb: 'get' },
  { group: '', resource: 'secrets', verb: 'list' },
  { group: '', resource: 'configmaps', verb: 'create' },
  { group: '', resource: 'services', verb: 'create' },
  { group: '', resource: 'pods', verb: 'list' },
  { group: '', resource: 'pods', subresource: 'log', verb: 'get' },
];

const DEFAULT_MAX_NAMESPACES = 20;
const REVIEW_CONCURRENCY = 8;
const NAMESPACE_PAGE_SIZE = 500;
const MAX_NAMESPACE_PAGES = 20;

/**
 * Tests a target's connection the way a person would: can we reach the
 * server, does it accept the credentials, and what may they do in each
 * allowed namespace. Never throws for cluster problems; they end up in the
 * result, with messages that never contain credentials.
 *
 * @throws InputError when the options are invalid
 */
export async function testConnection(
  connection: ClusterConnection,
  options: {
    /** Exact names and '*' globs such as 'team-*'. */
    allowedNamespaces: string[];
    /** Per request; 10 s by default. */
    timeoutMs?: number;
    /** At most this many namespaces are checked; 20 by default. */
    maxNamespaces?: number;
  },
): Promise<ConnectionTestResult> {
  const { allowedNamespaces, timeoutMs } = options;
  const maxNamespaces = options.maxNamespaces ?? DEFAULT_MAX_NAMESPACES;
  if (!Array.isArray(allowedNamespaces)) {
    throw new InputError('allowedNamespaces must be a list');
  }
  if (!Number.isInteger(maxNamespaces) || maxNamespaces < 1) {
    throw new InputError('maxNamespaces must be a positive whole number');
  }
  const requestOptions = timeoutMs === undefined ? {} : { timeoutMs };
  const warnings: string[] = [];

  let serverVersion: string | undefined;
  let latencyMs: number | undefined;
  try {
    ({ gitVersion: serverVersion, latencyMs } = await connection.getVersion(
      requestOptions,
    ));
  } catch (error) {
    const problem = connection.describeError(error);
    if (!problem.serverAnswered || problem.kind === 'unauthorized') {
      return failed(problem, warnings);
    }
    // Some clusters hide /version; the credentials may still be fine.
    warnings.push(`the server version is unknown: ${problem.message}`);
  }
  const head = `reachable${
    serverVersion !== undefined ? ` (${serverVersion}, ${latencyMs} ms)` : ''
  }`;
  const reached = {
    reachable: true,
    ...(serverVersion !== undefined && { serverVersion, latencyMs }),
  };

  let identity: string | undefined;
  try {
    identity = (await connection.whoAmI(requestOptions)).username || undefined;
  } catch (error) {
    const problem = connection.describeError(error);
    if (!problem.serverAnswered || problem.kind === 'unauthorized') {
      return {
        ...reached,
        error: problem.message,
        rbac: [],
        warnings,
        summary: `${head}, but ${problem.message}`,
      };
    }
    // Older servers have no SelfSubjectReview; the access checks still work.
  }
  if (identity === ANONYMOUS_USER) {
    const message =
      'the API server did not recognise the credentials and treated the requests as anonymous';
    return {
      ...reached,
      identity,
      error: message,
      rbac: [],
      warnings,
      summary: `${head}, but ${message}`,
    };
  }

  const { namespaces, notExpanded } = await resolveNamespaces(
    connection,
    allowedNamespaces,
    requestOptions,
    warnings,
  );
  const checked = namespaces.slice(0, maxNamespaces);
  if (namespaces.length > checked.length) {
    warnings.push(
      `only the first ${checked.length} of ${namespaces.length} namespaces were checked`,
    );
  }

  const rbac = await checkNamespaces(connection, checked, requestOptions);
  return {
    ...reached,
    ...(identity !== undefined && { identity }),
    rbac,
    warnings,
    summary: summarize({
      head: identity !== undefined ? `${head} as ${identity}` : head,
      rbac,
      notExpanded,
      capped:
        namespaces.length > checked.length
          ? { checked: checked.length, total: namespaces.length }
          : undefined,
    }),
  };
}

function failed(
  problem: ClusterRequestError,
  warnings: string[],
): ConnectionTestResult {
  const reachable = problem.serverAnswered;
  return {
    reachable,
    error: problem.message,
    rbac: [],
    warnings,
    summary: reachable
      ? `reachable, but ${problem.message}`
      : `unreachable: ${problem.message}`,
  };
}

/**
 * Exact names are taken as they are; globs are matched against the listed
 * namespaces, and a glob that cannot be expanded is reported, not fatal.
 */
async function resolveNamespaces(
  connection: ClusterConnection,
  patterns: string[],
  requestOptions: { timeoutMs?: number },
  warnings: string[],
): Promise<{
  namespaces: string[];
  notExpanded: Array<{ pattern: string; reason: string }>;
}> {
  const exact: string[] = [];
  const globs: string[] = [];
  for (const pattern of new Set(patterns)) {
    const problem =
      typeof pattern === 'string'
        ? validateAllowlistPattern(pattern)
        : 'not a string';
    if (problem) {
      warnings.push(
        `${JSON.stringify(
          pattern,
        )} is not a valid namespace pattern: ${problem}`,
      );
    } else if (pattern.includes('*')) {
      globs.push(pattern);
    } else {
      exact.push(pattern);
    }
  }

  const notExpanded: Array<{ pattern: string; reason: string }> = [];
  const matched = new Set<string>();
  if (globs.length > 0) {
    const listed = await listNamespaces(connection, requestOptions);
    if ('reason' in listed) {
      for (const pattern of globs) {
        notExpanded.push({ pattern, reason: listed.reason });
        warnings.push(
          `${JSON.stringify(pattern)} could not be expanded: ${listed.reason}`,
        );
      }
    } else {
      for (const pattern of globs) {
        const boundary = {
          allowedNamespaces: [pattern],
          allowedClusterScopedKinds: [],
        };
        const matches = listed.names.filter(name =>
          isNamespaceAllowed(boundary, name),
        );
        if (matches.length === 0) {
          warnings.push(`${JSON.stringify(pattern)} matches no namespace`);
        }
        matches.forEach(name => matched.add(name));
      }
    }
  }

  const fromGlobs = [...matched].filter(name => !exact.includes(name)).sort();
  return { namespaces: [...exact, ...fromGlobs], notExpanded };
}

async function listNamespaces(
  connection: ClusterConnection,
  requestOptions: { timeoutMs?: number },
): Promise<{ names: string[] } | { reason: string }> {
  const core = connection.makeApiClient(CoreV1Api, requestOptions);
  const names: string[] = [];
  let continueToken: string | undefined;
  try {
    for (let page = 0; page < MAX_NAMESPACE_PAGES; page++) {
      const list = await core.listNamespace({
        limit: NAMESPACE_PAGE_SIZE,
        ...(continueToken && { _continue: continueToken }),
      });
      for (const namespace of list.items) {
        if (namespace.metadata?.name) {
          names.push(namespace.metadata.name);
        }
      }
      continueToken = list.metadata?._continue;
      if (!continueToken) {
        return { names };
      }
    }
    return {
      reason: `the cluster has more than ${
        MAX_NAMESPACE_PAGES * NAMESPACE_PAGE_SIZE
      } namespaces`,
    };
  } catch (error) {
    const problem = connection.describeError(error);
    return {
      reason:
        problem.kind === 'forbidden'
          ? 'listing namespaces is forbidden'
          : problem.message,
    };
  }
}

/**
 * Runs every check in every namespace, a few at a time. When the server
 * stops answering, the remaining checks are skipped rather than each
 * waiting for its own timeout.
 */
async function checkNamespaces(
  connection: ClusterConnection,
  namespaces: string[],
  requestOptions: { timeoutMs?: number },
): Promise<ConnectionTestNamespace[]> {
  const tasks = namespaces.flatMap(namespace =>
    RELEASE_CHECKS.map(check => ({ ...check, namespace })),
  );
  let gaveUp: string | undefined;
  const outcomes = await mapWithConcurrency(
    tasks,
    REVIEW_CONCURRENCY,
    async (attributes): Promise<{ allowed: boolean; error?: string }> => {
      if (gaveUp !== undefined) {
        return { allowed: false, error: gaveUp };
      }
      try {
        return {
          allowed: (await connection.canI(attributes, requestOptions)).allowed,
        };
      } catch (error) {
        const problem = connection.describeError(error);
        if (!problem.serverAnswered) {
          gaveUp = problem.message;
        }
        return { allowed: false, error: problem.message };
      }
    },
  );

  return namespaces.map(namespace => {
    const entries = tasks
      .map((task, index) => ({ task, outcome: outcomes[index] }))
      .filter(({ task }) => task.namespace === namespace);
    const error = entries.find(({ outcome }) => outcome.error)?.outcome.error;
    return {
      namespace,
      checks: entries.map(({ task, outcome }) => ({
        verb: task.verb,
        group: task.group,
        resource: task.subresource
          ? `${task.resource}/${task.subresource}`
          : task.resource,
        allowed: outcome.allowed,
      })),
      ...(error !== undefined && { error }),
    };
  });
}

function summarize(options: {
  head: string;
  rbac: ConnectionTestNamespace[];
  notExpanded: Array<{ pattern: string; reason: string }>;
  capped?: { checked: number; total: number };
}): string {
  const { head, rbac, notExpanded, capped } = options;
  const full: string[] = [];
  const none: string[] = [];
  const other: string[] = [];
  for (const { namespace, checks, error } of rbac) {
    const missing = checks
      .filter(check => !check.allowed)
      .map(check => `${check.verb} ${check.resource}`);
    if (error !== undefined) {
      other.push(`rights in ${namespace} could not be checked (${error})`);
    } else if (missing.length === 0) {
      full.push(namespace);
    } else if (missing.length === checks.length) {
      none.push(namespace);
    } else {
      other.push(
        `partial rights in ${namespace} (missing ${missing.join(', ')})`,
      );
    }
  }

  const parts = [head];
  if (full.length > 0) {
    parts.push(`full release rights in ${full.join(', ')}`);
  }
  parts.push(...other);
  if (none.length > 0) {
    parts.push(`no rights in ${none.join(', ')}`);
  }
  for (const { pattern, reason } of notExpanded) {
    parts.push(`'${pattern}' not enumerable (${reason})`);
  }
  if (capped) {
    parts.push(
      `checked only the first ${capped.checked} of ${capped.total} namespaces`,
    );
  }
  if (rbac.length === 0 && notExpanded.length === 0) {
    parts.push('no allowed namespaces to check');
  }
  return parts.join('; ');
}
