/**
 * How far a newer version is from what runs: the highest patch of the same
 * major.minor, a newer minor or major, a tag that now points to another
 * digest than the pinned one, or `unknown` when what runs is not a semantic
 * version (never guessed).
 * @public
 */
export type AdvisoryKind = 'patch' | 'minor' | 'major' | 'digest' | 'unknown';

/**
 * The exact way to act on an advisory.
 * - `chart-version`: a new plan revision with this chart version (then
 *   dry-run, preflight and apply like any change);
 * - `values`: the values change that sets the new tag, where the chart's
 *   values expose it;
 * - `command`: the equivalent kubectl command, shown for copying, never run.
 * @public
 */
export type AdvisoryRemedy =
  | { type: 'chart-version'; reference: string; version: string }
  | {
      type: 'values';
      /** Dotted path of the value, e.g. `image.tag`. */
      valuesPath: string;
      from: string;
      to: string;
      /** The change as a values YAML fragment. */
      valuesYaml: string;
    }
  | { type: 'command'; command: string };

/**
 * A newer version of an image or chart a deployed release runs.
 * @public
 */
export interface Advisory {
  id: string;
  planId: string;
  subjectKind: 'image' | 'chart';
  /** 'chart', or 'Kind/name/container' of an image. */
  subject: string;
  workload?: string;
  container?: string;
  initContainer?: boolean;
  /** What runs: the image as the pod spec names it, or the chart version. */
  running: string;
  runningDigest?: string;
  /** Where newer versions were looked for. */
  source: string;
  kind: AdvisoryKind;
  /** The newer tag or version; absent for `unknown`. */
  available?: string;
  availableDigest?: string;
  /** Why, for `unknown` and `digest` advisories. */
  detail?: string;
  remedy?: AdvisoryRemedy;
  state: 'open' | 'dismissed' | 'resolved';
  firstSeenAt: string;
  lastSeenAt: string;
  dismissedBy?: string;
  dismissedAt?: string;
  dismissReason?: string;
  /** A dismissal with an end opens the advisory again after it. */
  dismissedUntil?: string;
  resolvedAt?: string;
  /** E.g. 'now runs 1.2.4', 'superseded by 1.2.5'. */
  resolvedReason?: string;
}

/**
 * A release's last advisory check: what ran and what could not be checked.
 * @public
 */
export interface AdvisoryCheck {
  planId: string;
  checkedAt: string;
  running: {
    images: Array<{
      workload: string;
      container: string;
      init: boolean;
      image: string;
    }>;
    chart?: { name: string; version: string; reference: string };
  };
  /** E.g. a registry that is down; the other sources were still checked. */
  problems: Array<{ source: string; message: string }>;
}

/**
 * The advisories of one release plan.
 * @public
 */
export interface PlanAdvisories {
  items: Advisory[];
  check?: AdvisoryCheck;
}

/**
 * An advisory with the release it belongs to, for lists across plans.
 * @public
 */
export interface AdvisoryWithRelease extends Advisory {
  release: {
    entityRef: string;
    target: string;
    namespace: string;
    releaseName: string;
  };
}

/**
 * Advisories across the plans a user may read.
 * @public
 */
export interface AdvisoryOverview {
  items: AdvisoryWithRelease[];
  /** Releases whose last check could not reach a source. */
  problems: Array<{
    planId: string;
    releaseName: string;
    checkedAt: string;
    problems: AdvisoryCheck['problems'];
  }>;
}
