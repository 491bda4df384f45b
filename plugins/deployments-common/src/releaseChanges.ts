/**
 * What a plan's release runs at one Helm revision, as far as the portal
 * recorded it: the chart version and the values profile revision.
 * @public
 */
export interface ReleaseRevisionInputs {
  /** The Helm revision. */
  revision: number;
  /** Helm's chart label, e.g. `hello-0.1.0`. */
  chart: string;
  /** The registered chart's version, when the revision came through the portal. */
  chartVersion?: string;
  chartId?: string;
  planRevision?: number;
  profileId?: string;
  /** The values profile revision it was applied with. */
  profileRevision?: number;
  actor?: string;
  /** Helm's rollback target when this revision is a rollback ("Rollback to N"). */
  rollbackOf?: number;
  /** False for a revision the portal has no record of (made outside it). */
  recorded: boolean;
}

/**
 * How the values change from what is deployed to what a dry-run rendered:
 * the profile values (secrets as keyed markers that change when the value
 * does) and, when the plan moves to another chart version, the chart's
 * default values.
 * @public
 */
export interface DryRunValuesChange {
  /** What runs now (the deployed Helm revision). */
  deployed: ReleaseRevisionInputs;
  /** Set when the plan moves to another chart version. */
  chartMove?: {
    fromVersion: string;
    toVersion: string;
    /** Unified diff of the charts' values.yaml; absent when equal. */
    defaultValuesDiff?: string;
  };
  /** Unified diff of the profile values; absent when equal. */
  valuesDiff?: string;
  /** Why a part could not be compared (e.g. a revision made outside the portal). */
  notes: string[];
}

/**
 * The difference between two Helm revisions of a plan's release: values
 * (secrets as markers) and rendered objects (Secret data as markers, profile
 * secrets redacted wherever a chart copied them).
 * @public
 */
export interface ReleaseRevisionDiff {
  from: ReleaseRevisionInputs;
  to: ReleaseRevisionInputs;
  /** Unified diff of the profile values; absent when equal or unknown (see notes). */
  valuesDiff?: string;
  /** Unified diff of the charts' default values when the chart version changed. */
  defaultValuesDiff?: string;
  objects: Array<{
    key: string;
    change: 'added' | 'changed' | 'removed' | 'unchanged';
    diff?: string;
  }>;
  notes: string[];
}
