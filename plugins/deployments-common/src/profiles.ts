/**
 * A values profile: a named set of values for one registered chart. Editing
 * it creates a new revision; plans pin the revision they use.
 * @public
 */
export interface ValuesProfile {
  id: string;
  chartId: string;
  name: string;
  description?: string;
  /** Entity ref of the owning group or user; policies decide who may use it. */
  owner?: string;
  /** The newest revision; older ones stay readable. */
  revision: number;
  /** The values without secrets. */
  values: Record<string, unknown>;
  /** JSON pointers (e.g. `/apiToken`) whose values are stored sealed and only reported as set. */
  secretPaths: string[];
  /** A hash of this revision's values, secrets included through a keyed fingerprint. */
  valuesHash: string;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/**
 * A past (or the current) revision of a values profile.
 * @public
 */
export interface ValuesProfileRevision {
  profileId: string;
  revision: number;
  chartId: string;
  values: Record<string, unknown>;
  secretPaths: string[];
  valuesHash: string;
  createdAt: string;
  createdBy: string;
}

/**
 * What a client sends to create or edit a profile. Values come either as JSON
 * (`values`, the typed form) or as YAML text (`valuesYaml`, the escape hatch).
 * A secret path without a value keeps the secret of the previous revision.
 * @public
 */
export interface ValuesProfileInput {
  name?: string;
  description?: string;
  /** Entity ref of the owning group or user, e.g. `group:default/team-a`. */
  owner?: string;
  chartId?: string;
  values?: Record<string, unknown>;
  valuesYaml?: string;
  secretPaths?: string[];
  /** Optimistic concurrency on edit: the revision the client started from. */
  expectedRevision?: number;
}

/**
 * One reason values do not match a chart's `values.schema.json`.
 * @public
 */
export interface ValuesViolation {
  /** JSON pointer-like path, e.g. `/image/tag` (empty for the root). */
  path: string;
  /** What the field expects, e.g. 'must be one of "a", "b" (allowed values)'. */
  message: string;
  /** The field's title from the chart's schema, or its key. */
  title?: string;
}

/**
 * Moves a values profile to another version of its chart.
 * @public
 */
export interface ValuesProfileUpgradeInput {
  /** The registered chart (same chart name, another version) to move to. */
  chartId: string;
  /** Optimistic concurrency: the revision the client started from. */
  expectedRevision?: number;
  /** Only report what the upgrade would do; nothing is stored. */
  dryRun?: boolean;
}

/**
 * What moving a profile to another chart version does to its values.
 * @public
 */
export interface ValuesProfileUpgradeReport {
  fromChartId: string;
  fromVersion: string;
  toChartId: string;
  toVersion: string;
  /** JSON pointers of keys the old chart had (defaults or schema) and the new one does not. */
  droppedKeys: string[];
  /** Of those, the ones this profile sets: they no longer do anything, or no longer validate. */
  droppedProfileKeys: string[];
  /** JSON pointers of keys the new chart has and the old one did not. */
  addedKeys: string[];
  /** Every way the profile's values (secrets included) fail the new chart's schema. */
  violations: ValuesViolation[];
  /** Secret paths carried over sealed, without re-entry. */
  secretPaths: string[];
}

/**
 * The answer to an upgrade: the report, and the profile at its new revision
 * unless it was a dry run.
 * @public
 */
export interface ValuesProfileUpgrade {
  report: ValuesProfileUpgradeReport;
  profile?: ValuesProfile;
}
