import { createApiRef } from '@backstage/frontend-plugin-api';
import {
  Advisory,
  AdvisoryOverview,
  PlanAdvisories,
  ApprovalDecisionInput,
  ApprovalRequest,
  ApprovalRequestInput,
  ChangeWindowSettings,
  ChangeWindowStatus,
  Chart,
  DeploymentsHealth,
  Operation,
  OperationLine,
  ReleaseHistoryEntry,
  ReleaseRevisionDiff,
  ReleaseSyncState,
  ReleasePlan,
  ReleasePlanInput,
  ValuesProfile,
  ValuesProfileInput,
  ValuesProfileRevision,
  ValuesProfileUpgrade,
  ValuesProfileUpgradeInput,
  ValuesViolation,
  KeyringBackupVerification,
  KeyringSelfTestResult,
  KeyringStatus,
  Target,
  TargetConnectionTestResult,
  TargetCredentialsInput,
  NamespaceOwnership,
} from '@kubedeploy/plugin-deployments-common';

/** The liveness answer of the deployments backend. @public */
export interface DeploymentsLiveness {
  status: 'ok';
}

/** A target's settings: everything but its name and credentials. @public */
export interface TargetSettingsInput {
  displayName?: string;
  description?: string;
  owner?: string;
  apiServerUrl?: string;
  caData?: string;
  allowedNamespaces?: string[];
  allowedClusterScopedKinds?: string[];
  /** Namespaced objects may live in any allowed namespace, not only the release's. */
  allowObjectsInOtherAllowedNamespaces?: boolean;
  impersonate?: { user?: string; groups?: string[] };
  allowInsecureTls?: boolean;
  /** Marks a production cluster. */
  production?: boolean;
  /** Owners of namespaces (names or globs); the first matching entry decides. */
  namespaceOwners?: NamespaceOwnership[];
  /** Apply, rollback and uninstall need another user's approval first. */
  requireApproval?: boolean;
  /**
   * When changes may happen. `null` (on update) removes the windows, so
   * changes may happen at any time; absent leaves them as they are.
   */
  changeWindows?: ChangeWindowSettings | null;
}

/**
 * Options of an apply, rollback or uninstall.
 * @public
 */
export interface PlanChangeOptions {
  /**
   * Why this change happens outside the target's change windows (the
   * emergency override); needs the `deployments.change-window.override`
   * permission and is audited.
   */
  overrideReason?: string;
}

/** Registering a target (`POST /targets`). @public */
export interface CreateTargetRequest extends TargetSettingsInput {
  name: string;
  credentials: TargetCredentialsInput;
}

/** Changing a target's settings (`PATCH /targets/{name}`). @public */
export interface UpdateTargetRequest extends TargetSettingsInput {
  /** Refuse the update (409) if the target changed since this revision. */
  expectedRevision?: number;
  /**
   * New credentials, sealed with the new settings: required when the API
   * server URL, CA, insecure TLS or impersonation change.
   */
  credentials?: TargetCredentialsInput;
}

/** One entry of the plugin's audit trail. @public */
export interface DeploymentsAuditEntry {
  id: number;
  occurredAt: string;
  actor: string;
  eventId: string;
  subject?: string;
  outcome: 'succeeded' | 'failed' | 'denied';
  message?: string;
  meta?: Record<string, unknown>;
}

/** Filters of `GET /audit`; `before` pages backwards by entry id. @public */
export interface DeploymentsAuditQuery {
  actor?: string;
  eventId?: string;
  subject?: string;
  outcome?: DeploymentsAuditEntry['outcome'];
  limit?: number;
  before?: number;
}

/** A `.kbk` file's content and the passphrase that opens it. @public */
export interface KeyringBackupUpload {
  /** The `.kbk` file's content (UTF-8 JSON text). */
  backup: string;
  passphrase: string;
}

/**
 * Talks to the deployments backend plugin. Errors are `ResponseError`s from
 * `@backstage/errors`, carrying the backend's status code and message.
 * @public
 */
export interface DeploymentsApi {
  getLiveness(): Promise<DeploymentsLiveness>;
  /** The status banner's summary (`GET /health/summary`). */
  getHealthSummary(): Promise<DeploymentsHealth>;

  getKeyringStatus(): Promise<KeyringStatus>;
  bootstrapKeyring(passphrase: string): Promise<KeyringStatus>;
  unlockKeyring(passphrase: string): Promise<KeyringStatus>;
  sealKeyring(): Promise<KeyringStatus>;
  selfTestKeyring(): Promise<KeyringSelfTestResult>;
  /** A `.kbk` backup protected by `passphrase`, as a file to download. */
  exportKeyringBackup(passphrase: string): Promise<Blob>;
  verifyKeyringBackup(
    upload: KeyringBackupUpload,
  ): Promise<KeyringBackupVerification>;
  restoreKeyring(upload: KeyringBackupUpload): Promise<KeyringStatus>;
  rotateKeyring(passphrase: string): Promise<KeyringStatus>;

  listTargets(options?: {
    limit?: number;
    offset?: number;
  }): Promise<{ items: Target[]; totalCount: number }>;
  getTarget(name: string): Promise<Target>;
  createTarget(request: CreateTargetRequest): Promise<Target>;
  updateTarget(name: string, request: UpdateTargetRequest): Promise<Target>;
  replaceTargetCredentials(
    name: string,
    credentials: TargetCredentialsInput,
  ): Promise<Target>;
  testTargetConnection(name: string): Promise<TargetConnectionTestResult>;
  deleteTarget(name: string): Promise<void>;

  listCharts(options?: {
    name?: string;
    limit?: number;
    offset?: number;
  }): Promise<{ items: Chart[]; totalCount: number }>;
  getChart(id: string): Promise<Chart>;
  /** The tags an OCI repository offers (`oci://host/path/name`). */
  listChartVersions(reference: string): Promise<{ versions: string[] }>;
  registerChart(request: { reference: string; version?: string }): Promise<{
    chart: Chart;
    /** False when the same version and digest were already registered. */
    created: boolean;
  }>;
  deleteChart(id: string): Promise<void>;

  listAuditEntries(
    query?: DeploymentsAuditQuery,
  ): Promise<{ items: DeploymentsAuditEntry[] }>;

  /** Checks values against a chart's schema, merged over its defaults; stores nothing. */
  validateChartValues(
    chartId: string,
    input: { values?: Record<string, unknown>; valuesYaml?: string },
  ): Promise<{ violations: ValuesViolation[] }>;

  listProfiles(options?: {
    chartId?: string;
    limit?: number;
    offset?: number;
  }): Promise<{ items: ValuesProfile[]; totalCount: number }>;
  getProfile(id: string): Promise<ValuesProfile>;
  createProfile(input: ValuesProfileInput): Promise<ValuesProfile>;
  /** Writes a new revision of the profile. */
  updateProfile(id: string, input: ValuesProfileInput): Promise<ValuesProfile>;
  deleteProfile(id: string): Promise<void>;
  /** Newest first. */
  listProfileRevisions(id: string): Promise<{ items: ValuesProfileRevision[] }>;
  getProfileRevision(
    id: string,
    revision: number,
  ): Promise<ValuesProfileRevision>;
  /**
   * Moves a profile to another version of its chart (a new revision, secrets
   * kept sealed); with `dryRun` only reports dropped and added keys and violations.
   */
  upgradeProfile(
    id: string,
    input: ValuesProfileUpgradeInput,
  ): Promise<ValuesProfileUpgrade>;

  listPlans(options?: {
    entityRef?: string;
    target?: string;
    limit?: number;
    offset?: number;
  }): Promise<{ items: ReleasePlan[]; totalCount: number }>;
  getPlan(id: string): Promise<ReleasePlan>;
  createPlan(input: ReleasePlanInput): Promise<ReleasePlan>;
  updatePlan(id: string, input: ReleasePlanInput): Promise<ReleasePlan>;
  deletePlan(id: string): Promise<void>;
  /** Operations start in the background; each returns the running operation. */
  dryRunPlan(id: string): Promise<Operation>;
  preflightPlan(id: string): Promise<Operation>;
  applyPlan(id: string, options?: PlanChangeOptions): Promise<Operation>;
  /** Without a revision: back to the last deployed one (recovery). */
  rollbackPlan(
    id: string,
    revision?: number,
    options?: PlanChangeOptions,
  ): Promise<Operation>;
  uninstallPlan(
    id: string,
    confirmReleaseName: string,
    options?: PlanChangeOptions,
  ): Promise<Operation>;
  /** Whether the plan's target accepts changes now, and when that changes. */
  getPlanChangeWindow(id: string): Promise<ChangeWindowStatus>;
  /** The plan's approval requests, newest first. */
  listPlanApprovals(
    id: string,
    options?: { limit?: number; offset?: number },
  ): Promise<{ items: ApprovalRequest[]; totalCount: number }>;
  /** Asks a second person to approve a change; an apply is bound to the last passed dry-run. */
  requestPlanApproval(
    id: string,
    input: ApprovalRequestInput,
  ): Promise<ApprovalRequest>;
  /** Approves or rejects another user's pending request (never one's own). */
  decidePlanApproval(
    id: string,
    approvalId: string,
    input: ApprovalDecisionInput,
  ): Promise<ApprovalRequest>;
  /** Patch advisories of the plans the user may read (of one entity, when given). */
  listAdvisories(options?: {
    entityRef?: string;
    includeResolved?: boolean;
  }): Promise<AdvisoryOverview>;
  /** The plan's advisories and the release's last check. */
  getPlanAdvisories(
    id: string,
    options?: { includeResolved?: boolean },
  ): Promise<PlanAdvisories>;
  /** Checks the release's images and chart for newer versions now. */
  checkPlanAdvisories(id: string): Promise<PlanAdvisories>;
  dismissPlanAdvisory(
    id: string,
    advisoryId: string,
    input: { reason: string; until?: string },
  ): Promise<Advisory>;
  /** A chart advisory's new plan revision, with the newer chart version. */
  createAdvisoryPlanRevision(
    id: string,
    advisoryId: string,
  ): Promise<ReleasePlan>;
  /** Newest first. */
  listPlanOperations(
    id: string,
    options?: { limit?: number; offset?: number },
  ): Promise<{ items: Operation[]; totalCount: number }>;
  getPlanResources(id: string): Promise<PlanResources>;
  /** One live object of the release, Secret values hidden, with its conditions and events. */
  getPlanResourceObject(
    id: string,
    object: { kind: string; name: string; apiVersion?: string },
  ): Promise<PlanResourceObjectDetail>;
  /** Helm revisions, newest first. */
  getPlanHistory(id: string): Promise<{ items: ReleaseHistoryEntry[] }>;
  /** Two Helm revisions compared: values (secrets as markers) and rendered objects. */
  getPlanHistoryDiff(
    id: string,
    fromRevision: number,
    toRevision: number,
  ): Promise<ReleaseRevisionDiff>;
  /** Whether the deployed release matches the plan, and how it differs. */
  getPlanSync(id: string): Promise<ReleaseSyncState>;
  listPlanPods(id: string): Promise<{ items: PlanPod[] }>;
  /** A container's log as text. */
  getPlanLogs(id: string, query: PlanLogsQuery): Promise<string>;
  /**
   * Follows a container's log: text chunks as they arrive, until `signal`
   * aborts or the container stops.
   */
  followPlanLogs(
    id: string,
    query: PlanLogsQuery,
    signal: AbortSignal,
  ): AsyncIterable<string>;

  /**
   * Operations across the plans the caller may read, newest first, without
   * their results; `after` is the `nextCursor` of the previous page.
   */
  listOperations(query?: OperationListQuery): Promise<{
    items: Operation[];
    nextCursor?: string;
  }>;
  getOperation(id: string): Promise<Operation>;
  /** Progress lines with a sequence number above `after`, in order. */
  listOperationLines(
    id: string,
    options?: { after?: number; limit?: number },
  ): Promise<{ items: OperationLine[] }>;
  cancelOperation(id: string): Promise<Operation>;
}

/**
 * Filters and paging of {@link DeploymentsApi.listOperations}.
 * @public
 */
export interface OperationListQuery {
  status?: Operation['status'];
  kind?: Operation['kind'];
  target?: string;
  limit?: number;
  after?: string;
}

/** @public */
export const deploymentsApiRef = createApiRef<DeploymentsApi>({
  id: 'plugin.deployments.api',
});

/** A status condition of a release object. @public */
export interface PlanResourceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A recent Kubernetes event about an object or pod. @public */
export interface PlanResourceEvent {
  /** 'Normal' or 'Warning'. */
  type: string;
  reason: string;
  message: string;
  count: number;
  lastSeen?: string;
}

/** Whether something works, in one line. @public */
export interface PlanResourceHealth {
  healthy: boolean;
  message: string;
}

/** One object of a deployed release with its live status. @public */
export interface PlanResourceObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** 'skipped' objects lie outside the release namespace and were not read. */
  state: 'present' | 'missing' | 'skipped' | 'error';
  health?: PlanResourceHealth;
  detail?: string;
  replicas?: {
    desired: number;
    ready: number;
    updated: number;
    available: number;
  };
  job?: {
    active: number;
    succeeded: number;
    failed: number;
    completions?: number;
  };
  service?: { type: string; clusterIP?: string; externalAddresses?: string[] };
  persistentVolumeClaim?: { phase: string };
  conditions: PlanResourceCondition[];
  events: PlanResourceEvent[];
}

/** A container of a release pod. @public */
export interface PlanPodContainer {
  name: string;
  init: boolean;
  image?: string;
  ready: boolean;
  restartCount: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  reason?: string;
  /** Whether an earlier instance exists, whose log `previous` reads. */
  hasPrevious: boolean;
}

/** A pod of a plan's release (`GET /plans/{id}/pods`). @public */
export interface PlanPod {
  name: string;
  namespace: string;
  phase: string;
  ready: boolean;
  restarts: number;
  node?: string;
  createdAt?: string;
  workloads: string[];
  /** Owner references as 'Kind/name', e.g. its ReplicaSet. */
  owners?: string[];
  containers: PlanPodContainer[];
  health: PlanResourceHealth;
  /** Present in `GET /plans/{id}/resources`. */
  events?: PlanResourceEvent[];
}

/** The live state of a plan's release (`GET /plans/{id}/resources`). @public */
export interface PlanResources {
  /** False when the release is not installed (yet, or any more). */
  installed: boolean;
  namespace: string;
  releaseName: string;
  summary: PlanResourceHealth;
  objects: PlanResourceObject[];
  /** ReplicaSets the release's Deployments own. */
  replicaSets?: PlanReplicaSet[];
  pods: PlanPod[];
  warnings: string[];
  fetchedAt: string;
}

/** A ReplicaSet a Deployment of the release owns. @public */
export interface PlanReplicaSet {
  name: string;
  /** 'Deployment/name'. */
  owner: string;
  revision?: number;
  replicas: {
    desired: number;
    ready: number;
    updated: number;
    available: number;
  };
  health: PlanResourceHealth;
  events: PlanResourceEvent[];
}

/** One live object of a release (`GET /plans/{id}/resources/object`). @public */
export interface PlanResourceObjectDetail {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /** Without managedFields; a Secret's values hidden. */
  yaml: string;
  conditions: PlanResourceCondition[];
  events: PlanResourceEvent[];
  owners: string[];
}

/** What to read of a container's log. @public */
export interface PlanLogsQuery {
  pod: string;
  container?: string;
  /** The previous (restarted) instance of the container. */
  previous?: boolean;
  tailLines?: number;
  /** The whole log, ignoring `tailLines`. */
  all?: boolean;
  sinceSeconds?: number;
  /** Each line starts with its RFC 3339 time. */
  timestamps?: boolean;
}
