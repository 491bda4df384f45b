/**
 * Where a release plan stands, in words a person understands at a glance.
 * @public
 */
export type ReleasePlanStatus =
  | 'draft'
  | 'dry-run-passed'
  | 'dry-run-failed'
  | 'preflight-passed'
  | 'preflight-failed'
  | 'applying'
  | 'deployed'
  | 'failed'
  | 'rolled-back'
  | 'interrupted'
  | 'uninstalled';

/**
 * How Helm runs for a plan.
 * @public
 */
export interface ReleasePlanOptions {
  /** Helm's --timeout, in seconds (default 300). */
  timeoutSeconds: number;
  /** Helm's --history-max (default 10). */
  historyMax: number;
  /** Create the namespace when it does not exist. */
  createNamespace: boolean;
  /** Run `helm test` after apply and roll back when it fails. */
  runTests: boolean;
}

/**
 * A release plan: a chart version deployed to one namespace of one target
 * under one Helm release name, with a values profile revision.
 * @public
 */
export interface ReleasePlan {
  id: string;
  /** The catalog entity the plan deploys, e.g. `component:default/payments-api`. */
  entityRef: string;
  /** The entity's owner when the plan was last written; permission rules use it. */
  entityOwner?: string;
  chartId: string;
  chart: { name: string; version: string; digest: string };
  target: string;
  namespace: string;
  releaseName: string;
  profileId?: string;
  profileRevision?: number;
  options: ReleasePlanOptions;
  /** Increases on every edit. */
  revision: number;
  status: ReleasePlanStatus;
  statusMessage?: string;
  statusChangedAt: string;
  statusChangedBy: string;
  /** The latest dry-run and preflight, which gate apply. */
  lastDryRun?: ReleasePlanGate;
  lastPreflight?: ReleasePlanGate;
  /** The operation running on this release now, if any. */
  runningOperationId?: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/**
 * The outcome of the latest dry-run or preflight of a plan.
 * @public
 */
export interface ReleasePlanGate {
  operationId: string;
  passed: boolean;
  inputsHash: string;
  planRevision: number;
  at: string;
}

/**
 * What a client sends to create or edit a plan.
 * @public
 */
export interface ReleasePlanInput {
  entityRef?: string;
  chartId?: string;
  target?: string;
  namespace?: string;
  releaseName?: string;
  profileId?: string;
  /** Pin a profile revision; the newest when omitted. */
  profileRevision?: number;
  options?: Partial<ReleasePlanOptions>;
  expectedRevision?: number;
}
