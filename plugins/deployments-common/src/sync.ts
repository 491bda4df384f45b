/**
 * Whether a plan's release in the cluster is what the plan declares.
 *
 * - `in-sync`: helm's latest revision was made by the portal from this plan's
 *   chart, values and revision, and is deployed.
 * - `differs`: something else is deployed; `differences` says what.
 * - `not-installed`: helm has no release of that name in the namespace.
 *
 * @public
 */
export type ReleaseSyncStatus = 'in-sync' | 'differs' | 'not-installed';

/**
 * One way the deployed release differs from the plan.
 *
 * - `revision`: helm's latest revision was not made by a portal apply of this
 *   plan (made by hand, or a rollback).
 * - `chart`, `values`, `plan-revision`: the inputs of the deployed revision
 *   are not the plan's current ones.
 * - `status`: the latest revision is not deployed (failed, pending).
 *
 * @public
 */
export interface ReleaseSyncDifference {
  field: 'revision' | 'chart' | 'values' | 'plan-revision' | 'status';
  /** What differs, in words, e.g. "revision 4 was not made by the portal". */
  message: string;
}

/**
 * Helm's latest revision of a release, and who made it.
 * @public
 */
export interface ReleaseSyncLiveRevision {
  revision: number;
  /** helm's status: deployed, failed, pending-upgrade, ... */
  status: string;
  /** helm's `name-version` of the chart. */
  chart: string;
  updated: string;
  description: string;
  /** Whether an operation of the portal made this revision. */
  madeByPortal: boolean;
  /** Who made it, when the portal did. */
  actor?: string;
  operationId?: string;
  /** The plan revision whose inputs the revision holds, when known. */
  planRevision?: number;
}

/**
 * The sync state of a plan's release: the plan compared with helm's live
 * release and the portal's record of what each revision was made from.
 * @public
 */
export interface ReleaseSyncState {
  status: ReleaseSyncStatus;
  /** One sentence for a chip's tooltip or a card. */
  summary: string;
  differences: ReleaseSyncDifference[];
  /** Absent when the release is not installed. */
  live?: ReleaseSyncLiveRevision;
  checkedAt: string;
}
