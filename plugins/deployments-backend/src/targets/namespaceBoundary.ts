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
  /**
   * Whether a namespaced object may live in another namespace the allowlist
   * allows, not only in the release namespace (some charts put a Role into
   * kube-system by design). Never outside the allowlist. Default false.
   */
  allowObjectsInOtherAllowedNamespaces?: boolean;
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

/**
 * A namespaced object outside the release namespace that the boundary lets
 * through only because the target allows objects in its other allowed
 * namespaces.
 */
export interface OtherNamespaceObject {
  /** e.g. 'rbac.authorization.k8s.io/v1 Role kube-system/x'. */
  object: string;
  namespace: string;
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

/**
 * The kinds of the core group ('' in apiVersion 'v1') that are
 * cluster-scoped, as the kube-apiserver's discovery reports them (Kubernetes
 * v1.36: componentstatuses, namespaces, nodes, persistentvolumes). Only these
 * may be written without a group in allowedClusterScopedKinds.
 */
export const CORE_CLUSTER_SCOPED_KINDS: readonly string[] = [
  'ComponentStatus',
  'Namespace',
  'Node',
  'PersistentVolume',
];

/** Groups of well-known cluster-scoped kinds, to suggest the full form of a bare kind. */
const WELL_KNOWN_CLUSTER_KIND_GROUPS: Record<string, string> = {
  ClusterRole: 'rbac.authorization.k8s.io',
  ClusterRoleBinding: 'rbac.authorization.k8s.io',
  CustomResourceDefinition: 'apiextensions.k8s.io',
  APIService: 'apiregistration.k8s.io',
  MutatingWebhookConfiguration: 'admissionregistration.k8s.io',
  ValidatingWebhookConfiguration: 'admissionregistration.k8s.io',
  ValidatingAdmissionPolicy: 'admissionregistration.k8s.io',
  ValidatingAdmissionPolicyBinding: 'admissionregistration.k8s.io',
  MutatingAdmissionPolicy: 'admissionregistration.k8s.io',
  MutatingAdmissionPolicyBinding: 'admissionregistration.k8s.io',
  StorageClass: 'storage.k8s.io',
  CSIDriver: 'storage.k8s.io',
  CSINode: 'storage.k8s.io',
  VolumeAttachment: 'storage.k8s.io',
  VolumeAttributesClass: 'storage.k8s.io',
  PriorityClass: 'scheduling.k8s.io',
  IngressClass: 'networking.k8s.io',
  IPAddress: 'networking.k8s.io',
  ServiceCIDR: 'networking.k8s.io',
  RuntimeClass: 'node.k8s.io',
  CertificateSigningRequest: 'certificates.k8s.io',
  ClusterTrustBundle: 'certificates.k8s.io',
  FlowSchema: 'flowcontrol.apiserver.k8s.io',
  PriorityLevelConfiguration: 'flowcontrol.apiserver.k8s.io',
  DeviceClass: 'resource.k8s.io',
  ResourceSlice: 'resource.k8s.io',
  SubjectAccessReview: 'authorization.k8s.io',
  SelfSubjectAccessReview: 'authorization.k8s.io',
  SelfSubjectRulesReview: 'authorization.k8s.io',
  SelfSubjectReview: 'authentication.k8s.io',
  TokenReview: 'authentication.k8s.io',
  ClusterIssuer: 'cert-manager.io',
};

const KIND = /^[A-Z][A-Za-z0-9]*$/;
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const API_VERSION_LIKE = /^v[0-9]+((alpha|beta)[0-9]+)?$/;
const CLUSTER_KIND_MAX_LENGTH =
  DNS1123_SUBDOMAIN_MAX_LENGTH + 1 + DNS1123_LABEL_MAX_LENGTH;

/** Whether the value is a DNS-1123 subdomain, the form of an API group. */
function isDns1123Subdomain(value: string): boolean {
  return (
    value.length <= DNS1123_SUBDOMAIN_MAX_LENGTH &&
    value.split('.').every(isDns1123Label)
  );
}

/**
 * Returns why an entry of a target's allowed cluster-scoped kinds is invalid,
 * naming the entry and the form expected, or undefined when it is valid.
 * Entries are 'Kind' for the core group's cluster-scoped kinds
 * (CORE_CLUSTER_SCOPED_KINDS) and 'group/Kind' for every other group, e.g.
 * 'rbac.authorization.k8s.io/ClusterRole'. A bare kind of another group
 * would never match a rendered object, so it is refused rather than stored.
 */
export function validateClusterScopedKind(entry: string): string | undefined {
  const quoted = JSON.stringify(entry);
  if (entry.length === 0) {
    return 'a cluster-scoped kind is empty; write Kind for the core group or group/Kind, e.g. rbac.authorization.k8s.io/ClusterRole';
  }
  if (entry.length > CLUSTER_KIND_MAX_LENGTH) {
    return `${quoted} is longer than ${CLUSTER_KIND_MAX_LENGTH} characters`;
  }
  const parts = entry.split('/');
  if (parts.length > 2) {
    return `${quoted} has more than one '/'; write group/Kind without a version, e.g. rbac.authorization.k8s.io/ClusterRole`;
  }
  const [group, kind] = parts.length === 2 ? parts : ['', parts[0]];
  if (!KIND.test(kind)) {
    return `${quoted}: the kind ${JSON.stringify(
      kind,
    )} is not a Kubernetes kind (UpperCamelCase letters and digits, e.g. ClusterRole)`;
  }
  if (parts.length === 2) {
    if (group === '' || group === 'core') {
      return CORE_CLUSTER_SCOPED_KINDS.includes(kind)
        ? `${quoted}: core kinds are written without a group; write ${kind}`
        : `${quoted}: ${kind} is not a cluster-scoped kind of the core group (${CORE_CLUSTER_SCOPED_KINDS.join(
            ', ',
          )})`;
    }
    if (API_VERSION_LIKE.test(group)) {
      return `${quoted}: ${JSON.stringify(
        group,
      )} is a version, not an API group; write group/Kind without a version, e.g. rbac.authorization.k8s.io/ClusterRole, or Kind for the core group`;
    }
    if (!isDns1123Subdomain(group)) {
      return `${quoted}: the group ${JSON.stringify(
        group,
      )} is not a valid API group (a lower-case DNS subdomain, e.g. rbac.authorization.k8s.io)`;
    }
    return undefined;
  }
  if (CORE_CLUSTER_SCOPED_KINDS.includes(kind)) {
    return undefined;
  }
  const knownGroup = WELL_KNOWN_CLUSTER_KIND_GROUPS[kind];
  return knownGroup
    ? `${quoted} is not a core kind; write it as group/Kind, e.g. ${knownGroup}/${kind}`
    : `${quoted} is not a core kind; write it as group/Kind with the kind's API group, e.g. rbac.authorization.k8s.io/ClusterRole`;
}

function patternToRegExp(pattern: string): RegExp {
  // validateAllowlistPattern guarantees the literal parts are [-a-z0-9], so no escaping is needed.
  const body = pattern.split('*').join('[-a-z0-9]*');
  return new RegExp(`^${body}$`);
}

/** Whether a namespace matches an allowlist-style pattern (exact name or glob); invalid patterns match nothing. */
export function matchesNamespacePattern(
  pattern: string,
  namespace: string,
): boolean {
  return (
    isDns1123Label(namespace) &&
    validateAllowlistPattern(pattern) === undefined &&
    patternToRegExp(pattern).test(namespace)
  );
}

/** Whether the boundary allows the namespace. An empty list allows nothing. */
export function isNamespaceAllowed(
  boundary: NamespaceBoundary,
  namespace: string,
): boolean {
  return boundary.allowedNamespaces.some(pattern =>
    matchesNamespacePattern(pattern, namespace),
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

/** What to check: a rendered release's objects against a target's boundary. */
export interface ManifestBoundaryCheck {
  boundary: NamespaceBoundary;
  releaseNamespace: string;
  objects: ManifestObject[];
  scopeOf: ScopeLookup;
}

/** What checking a rendered release against a boundary found. */
export interface BoundaryInspection {
  /** Non-empty means the release leaves the boundary. */
  violations: BoundaryViolation[];
  /** Objects let through only by allowObjectsInOtherAllowedNamespaces, to show them. */
  otherNamespaceObjects: OtherNamespaceObject[];
}

/**
 * Checks every object of a rendered release against the boundary and returns
 * all violations; an empty result means the release stays inside it.
 */
export function checkManifestBoundary(
  options: ManifestBoundaryCheck,
): BoundaryViolation[] {
  return inspectManifestBoundary(options).violations;
}

/**
 * Like checkManifestBoundary, and also lists the objects that sit in another
 * allowed namespace than the release's because the target allows it.
 */
export function inspectManifestBoundary(
  options: ManifestBoundaryCheck,
): BoundaryInspection {
  const { boundary, releaseNamespace, objects, scopeOf } = options;
  const violations: BoundaryViolation[] = [];
  const otherNamespaceObjects: OtherNamespaceObject[] = [];

  if (!isNamespaceAllowed(boundary, releaseNamespace)) {
    violations.push({
      object: `release namespace ${JSON.stringify(releaseNamespace)}`,
      reason: 'the release namespace is not allowed by this target',
    });
  }
  objects.forEach((object, index) => {
    const result = checkObject(
      object,
      index,
      boundary,
      releaseNamespace,
      scopeOf,
    );
    if (result && 'reason' in result) {
      violations.push(result);
    } else if (result) {
      otherNamespaceObjects.push(result);
    }
  });
  return { violations, otherNamespaceObjects };
}

function checkObject(
  object: ManifestObject,
  index: number,
  boundary: NamespaceBoundary,
  releaseNamespace: string,
  scopeOf: ScopeLookup,
): BoundaryViolation | OtherNamespaceObject | undefined {
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
    if (namespace === releaseNamespace) {
      return undefined;
    }
    const objectName = `${apiVersion} ${kind} ${String(
      namespace,
    )}/${displayName}`;
    const inAllowlist =
      typeof namespace === 'string' && isNamespaceAllowed(boundary, namespace);
    if (inAllowlist && boundary.allowObjectsInOtherAllowedNamespaces === true) {
      return { object: objectName, namespace };
    }
    // By default even another allowlisted namespace is refused: a chart must not choose its own namespace.
    const reason = `object is in namespace ${JSON.stringify(
      namespace,
    )}, outside the release namespace ${JSON.stringify(releaseNamespace)}`;
    if (!inAllowlist) {
      return {
        object: objectName,
        reason: boundary.allowObjectsInOtherAllowedNamespaces
          ? `${reason} and outside the namespaces this target allows`
          : reason,
      };
    }
    return {
      object: objectName,
      reason: `${reason}; the namespace is allowed by this target, but the target does not allow objects in its other allowed namespaces`,
    };
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
