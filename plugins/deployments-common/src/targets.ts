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
  /** Marks a production cluster, for policies (`IS_PRODUCTION_TARGET`) and the UI. */
  production: boolean;
  /**
   * Which groups own which namespaces (exact names or globs like `team-a-*`),
   * for the `IS_NAMESPACE_OWNER` and `IS_NAMESPACE_OWNED_BY_ENTITY_OWNER`
   * rules. The first matching entry decides.
   */
  namespaceOwners: NamespaceOwnership[];
  /** Apply, rollback and uninstall need another user's approval first. */
  requireApproval: boolean;
  /** When changes may happen; absent means always. */
  changeWindows?: ChangeWindowSettings;
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

/** Owners of the namespaces that match a name or glob. @public */
export interface NamespaceOwnership {
  /** An exact namespace name or a glob with `*`, e.g. `team-a-*`. */
  namespace: string;
  /** Entity refs of the owning groups or users, e.g. `group:default/team-a`. */
  owners: string[];
}

/**
 * A target's change windows: changes (apply, rollback, uninstall) happen only
 * inside an allowed window and never during a freeze.
 * @public
 */
export interface ChangeWindowSettings {
  /** IANA time zone the cron expressions are read in, e.g. `Europe/Berlin`. */
  timeZone: string;
  /**
   * Each window opens when its cron expression (5 fields: minute hour
   * day-of-month month day-of-week) fires and stays open for its duration.
   * Empty: always open outside freezes.
   */
  windows: Array<{ cron: string; durationMinutes: number }>;
  /** Periods without changes (ISO 8601 instants, end exclusive). */
  freezes: Array<{ start: string; end: string; reason: string }>;
}

/** Whether a target accepts changes now. @public */
export interface ChangeWindowStatus {
  open: boolean;
  /** Why it is closed: outside every window, or the freeze's reason. */
  reason?: string;
  /** When the current window closes (open) or the next one opens (closed). */
  closesAt?: string;
  nextOpenAt?: string;
}
