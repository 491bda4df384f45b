import {
  ReleaseSyncDifference,
  ReleaseSyncLiveRevision,
  ReleaseSyncState,
} from '@kubedeploy/plugin-deployments-common';
import { HelmRevision } from '../helm';
import { ReleaseRecord } from './DatabaseOperationStore';

/** What the plan declares now, as the release records store it. */
export interface DeclaredRelease {
  planRevision: number;
  chartName: string;
  chartVersion: string;
  chartDigest: string;
  /** The hash of the values profile revision the plan deploys; undefined without a profile. */
  valuesHash?: string;
  /** For messages: `target/namespace`. */
  where: string;
  releaseName: string;
}

const PORTAL_ROLLBACK = /^rollback to (\d+)$/;
const HELM_ROLLBACK = /^Rollback to (\d+)/;
// Outcomes of applies that failed; helm may have made revisions they do not number.
const FAILED_OUTCOMES = new Set(['failed', 'rolled-back', 'cancelled']);
// How far apart helm's revision time and the portal's record may be; the
// record is written right after helm returns, on another clock.
const CLOCK_SLACK_MS = 120_000;

function shortDigest(digest: string | undefined): string {
  return digest ? `${digest.slice(0, 19)}…` : 'unknown';
}

/**
 * The portal's record of the revision's content: for a rollback, the record
 * of the revision it restored (followed through rollbacks of rollbacks).
 */
function contentRecord(
  record: ReleaseRecord,
  records: ReleaseRecord[],
): ReleaseRecord | undefined {
  let current: ReleaseRecord | undefined = record;
  for (let hops = 0; current && hops < 20; hops++) {
    const rollback = PORTAL_ROLLBACK.exec(current.outcome);
    if (!rollback) return current;
    const restored = Number(rollback[1]);
    current = records.find(r => r.helmRevision === restored);
  }
  return undefined;
}

/**
 * The portal's failed apply that left a revision it did not record (helm's
 * failed revision, or helm's rollback after it): the newest failed apply
 * recorded after helm made the revision.
 */
function failedApplyAfter(
  revision: HelmRevision,
  records: ReleaseRecord[],
): ReleaseRecord | undefined {
  const made = Date.parse(revision.updated);
  if (Number.isNaN(made)) return undefined;
  return records.find(
    r =>
      (r.helmRevision === undefined || r.helmRevision < revision.revision) &&
      FAILED_OUTCOMES.has(r.outcome) &&
      Date.parse(r.createdAt) >= made - CLOCK_SLACK_MS,
  );
}

function contentDifferences(
  revision: HelmRevision,
  content: ReleaseRecord,
  declared: DeclaredRelease,
): ReleaseSyncDifference[] {
  const differences: ReleaseSyncDifference[] = [];
  const n = revision.revision;
  if (content.chartDigest !== declared.chartDigest) {
    differences.push({
      field: 'chart',
      message: `revision ${n} runs chart ${revision.chart} (${shortDigest(
        content.chartDigest,
      )}); the plan has ${declared.chartName}-${
        declared.chartVersion
      } (${shortDigest(declared.chartDigest)})`,
    });
  }
  if ((content.valuesHash ?? '') !== (declared.valuesHash ?? '')) {
    differences.push({
      field: 'values',
      message: declared.valuesHash
        ? `revision ${n} was deployed with other values than the plan's profile revision holds`
        : `revision ${n} was deployed with a values profile; the plan now uses the chart's defaults`,
    });
  }
  if (content.planRevision !== declared.planRevision) {
    differences.push({
      field: 'plan-revision',
      message: `revision ${n} was deployed from plan revision ${content.planRevision}; the plan is at revision ${declared.planRevision}`,
    });
  }
  return differences;
}

/**
 * Compares the plan with helm's live history of its release and the portal's
 * records of which operation made which revision from what. Pure: the
 * caller reads helm and the database.
 *
 * @param history - helm's revisions of the release (any order); empty when not installed
 * @param records - the portal's release records of the release, newest first
 */
export function compareRelease(
  declared: DeclaredRelease,
  history: HelmRevision[],
  records: ReleaseRecord[],
  checkedAt: string = new Date().toISOString(),
): ReleaseSyncState {
  if (history.length === 0) {
    return {
      status: 'not-installed',
      summary: `No release ${declared.releaseName} is installed in ${declared.where}`,
      differences: [],
      checkedAt,
    };
  }
  const latest = history.reduce((a, b) => (b.revision > a.revision ? b : a));
  const n = latest.revision;
  const differences: ReleaseSyncDifference[] = [];
  const live: ReleaseSyncLiveRevision = {
    revision: n,
    status: latest.status,
    chart: latest.chart,
    updated: latest.updated,
    description: latest.description,
    madeByPortal: false,
  };

  const record = records.find(r => r.helmRevision === n);
  let content: ReleaseRecord | undefined;
  let rolledBackTo: number | undefined;
  let made: ReleaseRecord | undefined = record;
  if (record) {
    content = contentRecord(record, records);
    const rollback = PORTAL_ROLLBACK.exec(record.outcome);
    if (rollback) rolledBackTo = Number(rollback[1]);
  } else {
    // Revisions the portal caused without learning their number: a failed
    // apply's, and helm's own rollback after it (--rollback-on-failure).
    const failedApply = failedApplyAfter(latest, records);
    const helmRollback = HELM_ROLLBACK.exec(latest.description);
    if (failedApply && helmRollback) {
      made = failedApply;
      rolledBackTo = Number(helmRollback[1]);
      const restored = records.find(r => r.helmRevision === rolledBackTo);
      content = restored && contentRecord(restored, records);
    } else if (failedApply && latest.status !== 'deployed') {
      made = failedApply;
      content = failedApply;
    }
  }

  if (made) {
    live.madeByPortal = true;
    live.actor = made.actor;
    live.operationId = made.operationId;
    live.planRevision = content?.planRevision;
  } else {
    differences.push({
      field: 'revision',
      message: `revision ${n} was not made by the portal (helm: "${latest.description}")`,
    });
    if (latest.chart !== `${declared.chartName}-${declared.chartVersion}`) {
      differences.push({
        field: 'chart',
        message: `revision ${n} runs chart ${latest.chart}; the plan has ${declared.chartName}-${declared.chartVersion}`,
      });
    }
  }

  if (made && !content) {
    differences.push({
      field: 'revision',
      message: `revision ${n} restores revision ${rolledBackTo}, which the portal did not make`,
    });
  } else if (content) {
    const changed = contentDifferences(latest, content, declared);
    if (changed.length > 0 && rolledBackTo !== undefined) {
      differences.push({
        field: 'revision',
        message: record
          ? `revision ${n} is a rollback to revision ${rolledBackTo} (by ${made?.actor})`
          : `revision ${n} is helm's rollback to revision ${rolledBackTo} after the failed apply by ${made?.actor}`,
      });
    }
    differences.push(...changed);
  }

  if (latest.status !== 'deployed') {
    differences.push({
      field: 'status',
      message: `revision ${n} is ${latest.status}`,
    });
  }

  if (differences.length === 0) {
    return {
      status: 'in-sync',
      summary: `Revision ${n} is deployed from plan revision ${declared.planRevision}: chart, values and plan revision match`,
      differences,
      live,
      checkedAt,
    };
  }
  return {
    status: 'differs',
    summary: `The release differs from the plan: ${differences
      .map(d => d.message)
      .join('; ')}`,
    differences,
    live,
    checkedAt,
  };
}
