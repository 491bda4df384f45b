import { ConflictError, NotAllowedError } from '@backstage/errors';
import {
  ChangeWindowStatus,
  deploymentsChangeWindowOverridePermission,
} from '@kubedeploy/plugin-deployments-common';
import { AuditTrail } from '../audit/AuditTrail';
import {
  ChangeAdmission,
  ChangeGate,
  ChangeRequest,
} from '../operations/changeGates';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { ResourceAuthorizer } from '../permissions/ResourceAuthorizer';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { changeWindowStatus, formatInTimeZone } from './changeWindowSchedule';

const NO_ADMISSION: ChangeAdmission = {
  started: async () => {},
  abandoned: async () => {},
};

/**
 * Apply, rollback and uninstall only while the target's change window is
 * open. Outside it, an emergency change needs a reason and
 * deployments.change-window.override on the plan; every such override is
 * audited as critical.
 */
export class ChangeWindowGate implements ChangeGate {
  private constructor(
    private readonly authorizer: ResourceAuthorizer,
    private readonly audit: Pick<AuditTrail, 'recordOutcome'>,
    private readonly now: () => Date,
  ) {}

  static create(options: {
    authorizer: ResourceAuthorizer;
    audit: Pick<AuditTrail, 'recordOutcome'>;
    /** The clock, for tests. */
    now?: () => Date;
  }): ChangeWindowGate {
    return new ChangeWindowGate(
      options.authorizer,
      options.audit,
      options.now ?? (() => new Date()),
    );
  }

  async admit(request: ChangeRequest): Promise<ChangeAdmission> {
    const { plan, target, caller, kind } = request;
    const status = changeWindowStatus(target.changeWindows, this.now());
    if (status.open) return NO_ADMISSION;

    const closed = describeClosed(target, status);
    const reason = caller.overrideReason?.trim();
    if (!reason) {
      throw new ConflictError(
        `${closed}. An emergency override needs ${deploymentsChangeWindowOverridePermission.name} and a reason.`,
      );
    }
    try {
      await this.authorizer.authorizeLoaded(
        caller.credentials,
        deploymentsChangeWindowOverridePermission,
        plan,
        planPermissionRules,
        `Release plan ${plan.id}`,
      );
    } catch (error) {
      if ((error as Error).name !== 'NotAllowedError') throw error;
      throw new NotAllowedError(
        `${closed}. The emergency override was refused: ${caller.actor} does not hold ${deploymentsChangeWindowOverridePermission.name} on release plan ${plan.id}.`,
      );
    }
    // Recorded once the operation exists: an override another gate refused
    // afterwards changed nothing, and the entry names the operation it let in.
    return {
      started: operationId =>
        this.audit.recordOutcome({
          eventId: 'change-window-override',
          severityLevel: 'critical',
          actor: caller.actor,
          subject: plan.id,
          outcome: 'succeeded',
          meta: {
            target: target.name,
            kind,
            reason,
            operationId,
            window: status,
          },
        }),
      abandoned: async () => {},
    };
  }
}

function describeClosed(
  target: StoredTarget,
  status: ChangeWindowStatus,
): string {
  const timeZone = target.changeWindows?.timeZone ?? 'UTC';
  const next = status.nextOpenAt
    ? `next opens at ${formatInTimeZone(
        status.nextOpenAt,
        timeZone,
      )} (${timeZone})`
    : 'does not open within the next year';
  return `Target ${target.name} accepts changes only in its change windows; it is closed (${status.reason}) and ${next}`;
}
