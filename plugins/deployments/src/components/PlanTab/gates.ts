import {
  ReleaseHistoryEntry,
  ReleasePlan,
  ReleasePlanStatus,
} from '@kubedeploy/plugin-deployments-common';

// Why an operation button is disabled, in words that say what to do next.
// The backend enforces the same gates (409 with its own message); these only
// spare the user a request that cannot succeed.

function busyReason(plan: ReleasePlan): string | undefined {
  if (plan.runningOperationId || plan.status === 'applying') {
    return 'An operation is running on this release; wait for it to finish or cancel it';
  }
  return undefined;
}

/** Why a dry-run cannot start now, or undefined. */
export function dryRunBlockedReason(plan: ReleasePlan): string | undefined {
  return busyReason(plan);
}

/** Why a preflight cannot start now, or undefined. */
export function preflightBlockedReason(plan: ReleasePlan): string | undefined {
  const busy = busyReason(plan);
  if (busy) return busy;
  const dryRun = plan.lastDryRun;
  if (!dryRun) {
    return 'Run a dry-run first: the preflight checks the objects it rendered';
  }
  if (!dryRun.passed) {
    return 'The last dry-run failed; fix the plan and run the dry-run again';
  }
  if (dryRun.planRevision !== plan.revision) {
    return `The plan was edited since the dry-run (revision ${dryRun.planRevision} → ${plan.revision}); run the dry-run again`;
  }
  return undefined;
}

/** Why apply cannot start now, or undefined (the backend still decides). */
export function applyBlockedReason(plan: ReleasePlan): string | undefined {
  const busy = busyReason(plan);
  if (busy) return busy;
  const dryRun = plan.lastDryRun;
  const preflight = plan.lastPreflight;
  if (!dryRun) return 'Apply needs a passed dry-run; run the dry-run first';
  if (!dryRun.passed) {
    return 'The last dry-run failed; fix the plan and run the dry-run again';
  }
  if (dryRun.planRevision !== plan.revision) {
    return `The plan was edited since the dry-run (revision ${dryRun.planRevision} → ${plan.revision}); run the dry-run again`;
  }
  if (!preflight) return 'Apply needs a passed preflight; run the preflight';
  if (!preflight.passed) {
    return 'The last preflight failed; fix what it reported and run it again';
  }
  if (preflight.inputsHash !== dryRun.inputsHash) {
    return 'The preflight checked other inputs than the last dry-run; run the preflight again';
  }
  if (Date.parse(preflight.at) < Date.parse(dryRun.at)) {
    return 'The dry-run ran again after the preflight; run the preflight again';
  }
  return undefined;
}

const INSTALLED: ReleasePlanStatus[] = [
  'deployed',
  'failed',
  'rolled-back',
  'interrupted',
];

/** Why the release cannot be rolled back to `revision` now, or undefined. */
export function rollbackBlockedReason(
  plan: ReleasePlan,
  entry: ReleaseHistoryEntry,
  history: ReleaseHistoryEntry[],
): string | undefined {
  const busy = busyReason(plan);
  if (busy) return busy;
  if (plan.status === 'uninstalled') return 'The release is uninstalled';
  const current = history[0];
  if (current && current.revision === entry.revision) {
    return 'This is the current revision';
  }
  return undefined;
}

/** Why the release cannot be uninstalled now, or undefined. */
export function uninstallBlockedReason(
  plan: ReleasePlan,
  history: ReleaseHistoryEntry[] | undefined,
): string | undefined {
  const busy = busyReason(plan);
  if (busy) return busy;
  if (plan.status === 'uninstalled')
    return 'The release is already uninstalled';
  if (
    history !== undefined &&
    history.length === 0 &&
    !INSTALLED.includes(plan.status)
  ) {
    return 'Nothing is installed yet';
  }
  return undefined;
}
