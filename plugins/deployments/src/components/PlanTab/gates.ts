import {
  ApprovalOperationKind,
  ApprovalRequest,
  ChangeWindowStatus,
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

/**
 * The approved, unused and unexpired request that lets `kind` run on the
 * plan as it is now, or undefined. The backend decides; this only spares
 * the user a request that cannot succeed.
 */
export function usableApproval(
  kind: ApprovalOperationKind,
  plan: ReleasePlan,
  approvals: ApprovalRequest[],
  now: number = Date.now(),
  rollbackRevision?: number,
): ApprovalRequest | undefined {
  return approvals.find(
    approval =>
      approval.kind === kind &&
      (kind !== 'rollback' || approval.rollbackRevision === rollbackRevision) &&
      approval.status === 'approved' &&
      approval.planRevision === plan.revision &&
      Date.parse(approval.expiresAt) > now &&
      (kind !== 'apply' ||
        !approval.inputsHash ||
        !plan.lastDryRun ||
        approval.inputsHash === plan.lastDryRun.inputsHash),
  );
}

/** A pending request for `kind` on the plan as it is now, or undefined. */
export function pendingApproval(
  kind: ApprovalOperationKind,
  plan: ReleasePlan,
  approvals: ApprovalRequest[],
  now: number = Date.now(),
): ApprovalRequest | undefined {
  return approvals.find(
    approval =>
      approval.kind === kind &&
      approval.status === 'pending' &&
      approval.planRevision === plan.revision &&
      Date.parse(approval.expiresAt) > now,
  );
}

/** What the change gates know about a plan's target now. */
export interface ChangeControlFacts {
  /** Undefined while unknown (loading or unreadable). */
  requireApproval?: boolean;
  window?: ChangeWindowStatus;
  approvals?: ApprovalRequest[];
}

/** Why `kind` waits for an approval, or undefined. */
export function approvalMissingReason(
  kind: ApprovalOperationKind,
  plan: ReleasePlan,
  facts: ChangeControlFacts,
  options: { now?: number; rollbackRevision?: number } = {},
): string | undefined {
  const now = options.now ?? Date.now();
  if (!facts.requireApproval || !facts.approvals) return undefined;
  if (
    usableApproval(kind, plan, facts.approvals, now, options.rollbackRevision)
  ) {
    return undefined;
  }
  const verb = {
    apply: 'Apply',
    rollback: 'A rollback',
    uninstall: 'Uninstall',
  }[kind];
  if (pendingApproval(kind, plan, facts.approvals, now)) {
    return `${verb} waits for another user to approve the pending request (Change control)`;
  }
  return `The target requires approval: ${verb.toLowerCase()} needs another user's approval first; request one under Change control`;
}

/** Why the target's change window keeps changes out now, or undefined. */
export function windowClosedReason(
  window: ChangeWindowStatus | undefined,
  describeTime: (iso: string) => string,
): string | undefined {
  if (!window || window.open) return undefined;
  const why = window.reason ? ` (${window.reason})` : '';
  const next = window.nextOpenAt
    ? `; it opens ${describeTime(window.nextOpenAt)}`
    : '';
  return `The change window is closed${why}${next}. Only an emergency override changes anything now`;
}

/** When what a gate checked may have changed, besides the plan's own revision. */
export interface GateInputChanges {
  /** When the values profile last changed, if the plan follows its latest revision. */
  profileChangedAt?: string;
  /** When the target's settings or credentials last changed. */
  targetChangedAt?: string;
}

function changedAfter(at: string | undefined, gateAt: string): boolean {
  return at !== undefined && Date.parse(at) > Date.parse(gateAt);
}

/**
 * Why a passed gate no longer stands for the plan as it is (its inputs
 * changed since it ran), or undefined. The backend compares input hashes
 * at apply; this shows a stale gate as stale rather than green.
 */
export function gateStaleReason(
  kind: 'dry-run' | 'preflight',
  plan: ReleasePlan,
  changes: GateInputChanges = {},
): string | undefined {
  const gate = kind === 'dry-run' ? plan.lastDryRun : plan.lastPreflight;
  if (!gate) return undefined;
  if (gate.planRevision !== plan.revision) {
    return `the plan was edited since (revision ${gate.planRevision} → ${plan.revision})`;
  }
  if (changedAfter(changes.profileChangedAt, gate.at)) {
    return 'the values profile changed since';
  }
  if (changedAfter(changes.targetChangedAt, gate.at)) {
    return "the target's settings changed since";
  }
  const dryRun = plan.lastDryRun;
  if (kind === 'preflight' && dryRun) {
    if (gate.inputsHash !== dryRun.inputsHash) {
      return 'it checked other inputs than the last dry-run';
    }
    if (Date.parse(gate.at) < Date.parse(dryRun.at)) {
      return 'the dry-run ran again since';
    }
  }
  return undefined;
}
