/** How the backend authenticates to a target's API server. @public */
export type TargetAuthKind = 'kubeconfig' | 'token' | 'inCluster';

/**
 * A deployment target as the API returns it. Credential material never
 * appears: only whether it is set, its kind and a fingerprint.
 * @public
 */
export interface Target {
  name: string;
  displayName: string;
  description?: string;
  /** Entity ref of the owning group or user, e.g. `group:default/platform`. */
  owner?: string;
  apiServerUrl: string;
  /** PEM CA bundle; public data. */
  caData?: string;
  authKind: TargetAuthKind;
  credentials: {
    set: boolean;
    /** HMAC fingerprint: tells two credentials apart without revealing them. */
    fingerprint?: string;
    updatedAt?: string;
  };
  /** Exact namespace names and simple globs (`team-a-*`); empty allows nothing. */
  allowedNamespaces: string[];
  /**
   * Cluster-scoped kinds a chart may create: `Kind` for the core group
   * (Namespace, Node, PersistentVolume, ComponentStatus), `group/Kind`
   * otherwise, e.g. `rbac.authorization.k8s.io/ClusterRole`; empty allows none.
   */
  allowedClusterScopedKinds: string[];
  /**
   * Whether a chart's namespaced objects may live in any namespace the
   * allowlist allows (e.g. a Role in kube-system), not only in the release
   * namespace. Never outside the allowlist; dry-runs list such objects.
   */
  allowObjectsInOtherAllowedNamespaces: boolean;
  impersonate?: { user?: string; groups?: string[] };
  allowInsecureTls: boolean;
  revision: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  /**
   * Stored settings that today's rules refuse (written before they existed),
   * e.g. an allowed cluster-scoped kind without its group; such an entry
   * matches nothing until the target is updated.
   */
  warnings?: string[];
}

/** The credential part of creating a target or replacing its credentials. @public */
export type TargetCredentialsInput =
  | { authKind: 'kubeconfig'; kubeconfig: string }
  | { authKind: 'token'; token: string }
  | { authKind: 'inCluster' };

/** Result of a target connection test. @public */
export interface TargetConnectionTestResult {
  reachable: boolean;
  serverVersion?: string;
  latencyMs?: number;
  error?: string;
  rbac: Array<{
    namespace: string;
    checks: Array<{
      verb: string;
      group: string;
      resource: string;
      allowed: boolean;
    }>;
  }>;
  summary: string;
}
