import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ApprovalOperationKind } from '@kubedeploy/plugin-deployments-common';
import { StoredPlan } from '../plans/DatabasePlanStore';
import { StoredTarget } from '../targets/DatabaseTargetStore';

/** Who starts an operation, as every permission and gate check needs it. */
export interface OperationCaller {
  /** The user's entity ref. */
  actor: string;
  credentials: BackstageCredentials;
  /** An emergency change outside the target's change windows, and why. */
  overrideReason?: string;
}

/** A change about to start: what a gate decides on. */
export interface ChangeRequest {
  kind: ApprovalOperationKind;
  plan: StoredPlan;
  target: StoredTarget;
  caller: OperationCaller;
  /** Apply: the plan's inputs hash now. */
  inputsHash?: string;
  /** Apply: digest of the objects the last passed dry-run checked. */
  manifestHash?: string;
  /** Rollback: the Helm revision asked for (undefined: the last deployed one). */
  rollbackRevision?: number;
}

/** What a gate keeps hold of once it admitted a change. */
export interface ChangeAdmission {
  /** The operation started: e.g. an approval is recorded as used by it. */
  started(operationId: string): Promise<void>;
  /** The operation did not start (e.g. the release was busy): undo what admit took. */
  abandoned(): Promise<void>;
}

/**
 * One control every apply, rollback and uninstall passes before it starts
 * (four-eyes approval, change windows). `admit` throws a NotAllowedError or
 * ConflictError that says what is missing.
 */
export interface ChangeGate {
  admit(request: ChangeRequest): Promise<ChangeAdmission>;
}

/** Runs the gates in order; a refusal undoes what earlier gates took. */
export async function admitChange(
  gates: ChangeGate[],
  request: ChangeRequest,
): Promise<ChangeAdmission> {
  const admitted: ChangeAdmission[] = [];
  try {
    for (const gate of gates) {
      admitted.push(await gate.admit(request));
    }
  } catch (error) {
    await Promise.all(admitted.map(a => a.abandoned()));
    throw error;
  }
  return {
    started: async id => {
      await Promise.all(admitted.map(a => a.started(id)));
    },
    abandoned: async () => {
      await Promise.all(admitted.map(a => a.abandoned()));
    },
  };
}
