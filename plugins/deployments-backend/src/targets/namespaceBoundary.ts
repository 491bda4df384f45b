/**
 * The authorization boundary of a deployment target: which namespaces a
 * release may live in, and which cluster-scoped kinds its chart may create.
 *
 * Everything here fails closed: an invalid pattern matches nothing, an
 * unknown kind is refused, and scope comes from API discovery only.
 */
export interface NamespaceBoundary {
  /** Exact DNS-1123 labels or simple '*' globs, e.g. 'team-a-*'. '*' alone means every namespace. */
  allowedNamespaces: string[];
  /** 'Kind' for the core group, 'group/Kind' otherwise, e.g. 'rbac.authorization.k8s.io/ClusterRole'. */
  allowedClusterScopedKinds: string[];
}

/** The parts of a rendered manifest object that the boundary looks at. */
export interface ManifestObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/** Scope of a kind as reported by API discovery; undefined means the cluster does not know the kind. */
export type ScopeLookup = (
  group: string,
  version: string,
  kind: string,
) => 'Namespaced' | 'Cluster' | undefined;

export interface BoundaryViolation {
  /** The offending object, e.g. 'apps/v1 Deployment kube-system/x'. */
  object: string;
  reason: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_MAX_LENGTH = 63;

/** Whether the value is a valid Kubernetes namespace name (a DNS-1123 label). */
export function isDns1123Label(value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX_LENGTH && DNS1123_LABEL.test(value);
}

/**
 * Returns why an allowlist pattern is invalid, or undefined when it is valid.
 * Patterns are exact namespace names or globs whose only wildcard is '*'.
 */
export function validateAllowlistPattern(pattern: string): string | undefined {
  if (pattern.length === 0) {
    return 'pattern is empty';
  }
  if (pattern === '*') {
    // Valid, and means every namespace; callers should make that explicit to users.
    return undefined;
  }
  if (pattern.length > DNS1123_LABEL_MAX_LENGTH) {
    return `pattern is longer than ${DNS1123_LABEL_MAX_LENGTH} characters`;
  }
  if (pattern.includes('**')) {
    return "'**' is not supported; use a single '*'";
  }
  if (/[?[\]{}!]/.test(pattern)) {
    return "only the '*' wildcard is supported";
  }
  if (/[A-Z]/.test(pattern)) {
    return 'namespaces are lower case';
  }
  if (!/^[-a-z0-9*]+$/.test(pattern)) {
    return "pattern may only contain lower-case letters, digits, '-' and '*'";
  }
  if (pattern.startsWith('-') || pattern.endsWith('-')) {
    // A namespace can never start or end with '-', so such a pattern would silently match nothing.
    return "a namespace cannot start or end with '-'";
  }
  return undefined;
}

function patternToRegExp(pattern: string): RegExp {
  // validateAllowlistPattern guarantees the literal parts are [-a-z0-9], so no escaping is needed.
  const body = pattern.split('*').join('[-a-z0-9]*');
  return new RegExp(`^${body}$`);
}

/** Whether the boundary allows the namespace. An empty list allows nothing. */
export function isNamespaceAllowed(
  boundary: NamespaceBoundary,
  namespace: string,
): boolean {
  if (!isDns1123Label(namespace)) {
    return false;
  }
  return boundary.allowedNamespaces.some(
    pattern =>
      validateAllowlistPattern(pattern) === undefined &&
      patternToRegExp(pattern).test(namespace),
  );
}

/** Splits 'apps/v1' into group 'apps' and version 'v1'; 'v1' is the core group ''. */
function parseApiVersion(
  apiVersion: string,
): { group: string; version: string } | undefined {
  const parts = apiVersion.split('/');
  if (parts.length === 1 && parts[0]) {
    return { group: '', version: parts[0] };
  }
  if (parts.length === 2 && parts[0] && parts[1]) {
    return { group: parts[0], version: parts[1] };
  }
  return undefined;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Checks every object of a rendered release against the boundary and returns
 * all violations; an empty result means the release stays inside it.
 */
export function checkManifestBoundary(options: {
  boundary: NamespaceBoundary;
  releaseNamespace: string;
  objects: ManifestObject[];
  scopeOf: ScopeLookup;
}): BoundaryViolation[] {
  const { boundary, releaseNamespace, objects, scopeOf } = options;
  const violations: BoundaryViolation[] = [];

  if (!isNamespaceAllowed(boundary, releaseNamespace)) {
    violations.push({
      object: `release namespace ${JSON.stringify(releaseNamespace)}`,
      reason: 'the release namespace is not allowed by this target',
    });
  }
  objects.forEach((object, index) => {
    const violation = checkObject(
      object,
      index,
      boundary,
      releaseNamespace,
      scopeOf,
    );
    if (violation) {
      violations.push(violation);
    }
  });
  return violations;
}

function checkObject(
  object: ManifestObject,
  index: number,
  boundary: NamespaceBoundary,
  releaseNamespace: string,
  scopeOf: ScopeLookup,
): BoundaryViolation | undefined {
  // Objects come from rendered templates, so their declared types are not trusted.
  if (typeof object !== 'object' || object === null) {
    return { object: `objects[${index}]`, reason: 'object is not a mapping' };
  }
  const apiVersion: unknown = object.apiVersion;
  const kind: unknown = object.kind;
  const name: unknown = object.metadata?.name;
  const declaredNamespace: unknown = object.metadata?.namespace;
  const displayName = isNonEmptyString(name) ? name : '<unnamed>';

  if (!isNonEmptyString(apiVersion) || !isNonEmptyString(kind)) {
    return {
      object: `objects[${index}] ${displayName}`,
      reason: 'object has no apiVersion or kind',
    };
  }
  const groupVersion = parseApiVersion(apiVersion);
  if (!groupVersion) {
    return {
      object: `objects[${index}] ${kind} ${displayName}`,
      reason: `apiVersion ${JSON.stringify(apiVersion)} is not valid`,
    };
  }

  // Scope comes only from discovery: whether metadata.namespace is set says nothing about it.
  const scope = scopeOf(groupVersion.group, groupVersion.version, kind);

  if (scope === 'Namespaced') {
    // null is what a template renders for an empty 'namespace:'; the release namespace then applies.
    const namespace =
      declaredNamespace === undefined || declaredNamespace === null
        ? releaseNamespace
        : declaredNamespace;
    if (namespace !== releaseNamespace) {
      // Even another allowlisted namespace is refused: a chart must not choose its own namespace.
      return {
        object: `${apiVersion} ${kind} ${String(namespace)}/${displayName}`,
        reason: `object is in namespace ${JSON.stringify(
          namespace,
        )}, outside the release namespace ${JSON.stringify(releaseNamespace)}`,
      };
    }
    return undefined;
  }

  if (scope === 'Cluster') {
    // The API server ignores metadata.namespace on cluster-scoped kinds, so it changes nothing here.
    const kindKey =
      groupVersion.group === '' ? kind : `${groupVersion.group}/${kind}`;
    if (!boundary.allowedClusterScopedKinds.includes(kindKey)) {
      return {
        object: `${apiVersion} ${kind} ${displayName}`,
        reason: `cluster-scoped kind ${kindKey} is not allowed by this target`,
      };
    }
    return undefined;
  }

  return {
    object: `${apiVersion} ${kind} ${displayName}`,
    reason: `unknown kind ${kind} in ${apiVersion}: the cluster does not serve it, so its scope cannot be checked; refused`,
  };
}
