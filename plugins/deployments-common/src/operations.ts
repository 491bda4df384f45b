import { DryRunValuesChange } from './releaseChanges';

/**
 * What an operation does to a plan's release.
 * @public
 */
export type OperationKind =
  | 'dry-run'
  | 'preflight'
  | 'apply'
  | 'rollback'
  | 'uninstall';

/**
 * @public
 */
export type OperationStatus =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

/**
 * A durable record of one operation on a release.
 * @public
 */
export interface Operation {
  id: string;
  planId: string;
  planRevision: number;
  kind: OperationKind;
  status: OperationStatus;
  actor: string;
  /** Hash of everything that determines the release (dry-run, apply). */
  inputsHash?: string;
  target: string;
  namespace: string;
  releaseName: string;
  /** How many progress lines exist. */
  lineCount: number;
  error?: string;
  result?: DryRunResult | PreflightResult | ApplyResult | RollbackResult;
  createdAt: string;
  finishedAt?: string;
  durationMs?: number;
  cancelRequested: boolean;
  /** The catalog entity of the operation's plan; set in lists across plans. */
  entityRef?: string;
}

/**
 * One progress line of an operation.
 * @public
 */
export interface OperationLine {
  seq: number;
  at: string;
  text: string;
}

/**
 * One object Helm would create, with its change against what is deployed.
 * @public
 */
export interface DryRunObject {
  key: string;
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** The chart template it came from. */
  source: string;
  /** Hook events when the object is a hook. */
  hook?: string[];
  change: 'added' | 'changed' | 'removed' | 'unchanged';
  /** Unified diff of the object against the deployed one; Secret values redacted. */
  diff?: string;
  /**
   * The object against the live one in the cluster, as the API server would
   * apply it (server-side apply dry-run: defaults, admission and other
   * managers' fields included); absent when it was not validated.
   */
  liveChange?: 'added' | 'changed' | 'removed' | 'unchanged';
  /** Unified diff for liveChange; Secret values redacted. */
  liveDiff?: string;
  /** The rendered object as YAML; Secret values redacted. */
  manifest?: string;
}

/**
 * One object exactly as helm would send it, as the render guard checked it.
 *
 * @public
 */
export interface RenderedObjectRecord {
  /** 'apiVersion Kind namespace/name' as the object names itself (namespace empty when unset). */
  identity: string;
  /**
   * `sha256:<hex>` of the object's canonical JSON. Kept by the backend to
   * compare renders; never in API responses, since a digest of content that
   * may hold a secret value would let a reader test guesses of it.
   */
  digest?: string;
  hook: boolean;
}

/**
 * What the render guard checked in one run of helm.
 *
 * @public
 */
export interface RenderedObjects {
  /** Digest of the whole set, independent of order; like the objects' digests, never in API responses. */
  digest?: string;
  /** Whether hooks passed through the guard too (helm 4) or only the manifest (helm 3). */
  includesHooks: boolean;
  objects: RenderedObjectRecord[];
}

/**
 * @public
 */
export interface DryRunResult {
  type: 'dry-run';
  passed: boolean;
  inputsHash: string;
  chartDigest: string;
  violations: Array<{ object: string; reason: string }>;
  warnings: Array<{ object: string; code: string; message: string }>;
  objects: DryRunObject[];
  notes?: string;
  /** The objects the guard checked; apply sends only these (see the README's boundary section). */
  rendered?: RenderedObjects;
  /** How the values change from what is deployed (profile values, chart defaults on a version move). */
  valuesChange?: DryRunValuesChange;
}

/**
 * @public
 */
export interface PreflightCheckResult {
  name: string;
  passed: boolean;
  message: string;
  /** The Role (or ClusterRole) rule that would make the check pass, as YAML. */
  missingRule?: string;
}

/**
 * @public
 */
export interface PreflightResult {
  type: 'preflight';
  passed: boolean;
  serverVersion?: string;
  checks: PreflightCheckResult[];
}

/**
 * @public
 */
export interface ApplyResult {
  type: 'apply';
  helmRevision?: number;
  helmStatus?: string;
  description?: string;
  rolledBack: boolean;
  testsPassed?: boolean;
  /** What helm sent, as the guard checked it at apply. */
  rendered?: RenderedObjects;
  /** Objects whose content differed from the dry-run (templates that read the cluster, the time or randomness). */
  differsFromDryRun?: string[];
  /**
   * The last picture of the release's pods, events and failing containers'
   * logs taken while helm waited, kept when the apply failed: helm may have
   * removed the objects since.
   */
  diagnosis?: RolloutDiagnosis;
}

/**
 * One container of a pod in a {@link RolloutDiagnosis}.
 * @public
 */
export interface DiagnosedContainer {
  name: string;
  init: boolean;
  ready: boolean;
  restartCount: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  /** e.g. 'ImagePullBackOff', 'CrashLoopBackOff', 'Error'. */
  reason?: string;
  /** What the kubelet said about the state, e.g. why an image could not be pulled. */
  message?: string;
  /** How the previous instance ended, e.g. 'OOMKilled (exit code 137)'. */
  lastTermination?: string;
}

/**
 * A pod of the release as it was when the picture was taken.
 * @public
 */
export interface DiagnosedPod {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  healthy: boolean;
  /** In one line, e.g. 'container web: CrashLoopBackOff' or 'not scheduled: Unschedulable'. */
  health: string;
  containers: DiagnosedContainer[];
}

/**
 * A Kubernetes event about one of the release's objects or pods.
 * @public
 */
export interface DiagnosedEvent {
  /** 'Kind/name' of the object the event is about. */
  object: string;
  /** 'Normal' or 'Warning'. */
  type: string;
  reason: string;
  message: string;
  count: number;
  lastSeen?: string;
}

/**
 * The last lines a failing container wrote (secrets redacted).
 * @public
 */
export interface ContainerLogTail {
  pod: string;
  container: string;
  /** Read from the previous (crashed) instance of the container. */
  previous: boolean;
  lines: string[];
  /** Longer lines or more bytes than kept were cut. */
  truncated: boolean;
}

/**
 * Why a release's pods are not ready: their states, the newest events of
 * the release's objects and the last log lines of failing containers.
 * @public
 */
export interface RolloutDiagnosis {
  takenAt: string;
  pods: DiagnosedPod[];
  /** Newest first. */
  events: DiagnosedEvent[];
  logs: ContainerLogTail[];
  /** What could not be read, when the rest could. */
  warnings: string[];
}

/**
 * @public
 */
export interface RollbackResult {
  type: 'rollback' | 'uninstall';
  helmRevision?: number;
  helmStatus?: string;
}

/**
 * One Helm revision of a release, with the plan revision and actor that
 * produced it when it came through the portal.
 * @public
 */
export interface ReleaseHistoryEntry {
  revision: number;
  updated: string;
  status: string;
  chart: string;
  appVersion?: string;
  description: string;
  planRevision?: number;
  actor?: string;
  operationId?: string;
  /** The registered chart's version it was applied with, when made through the portal. */
  chartVersion?: string;
  /** The values profile revision it was applied with. */
  profileRevision?: number;
  /** The revision a rollback went back to. */
  rollbackOf?: number;
}
