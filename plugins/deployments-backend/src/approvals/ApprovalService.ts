import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  ApprovalDecisionInput,
  ApprovalOperationKind,
  ApprovalRequest,
  ApprovalRequestInput,
  ApprovalStatus,
  DryRunResult,
} from '@kubedeploy/plugin-deployments-common';
import {
  NotificationSendOptions,
  NotificationService,
} from '@backstage/plugin-notifications-node';
import { randomUUID } from 'node:crypto';
import { planLink } from '../notifications/links';
import { NotificationSender } from '../notifications/NotificationSender';
import {
  ChangeAdmission,
  ChangeGate,
  ChangeRequest,
  OperationCaller,
} from '../operations/changeGates';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import { StoredPlan } from '../plans/DatabasePlanStore';
import { PlanService } from '../plans/PlanService';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';
import { DatabaseApprovalStore, StoredApproval } from './DatabaseApprovalStore';

/** What an approval is bound to, as the plan and target stand now. */
interface CurrentBinding {
  planRevision: number;
  targetRevision: number;
  /** The last passed dry-run (apply approvals are bound to it). */
  dryRun?: { operationId: string; inputsHash: string; manifestHash?: string };
}

const NO_ADMISSION: ChangeAdmission = {
  started: async () => {},
  abandoned: async () => {},
};

const VERBS: Record<ApprovalOperationKind, string> = {
  apply: 'Applying',
  rollback: 'Rolling back',
  uninstall: 'Uninstalling',
};

/**
 * Four-eyes approval of apply, rollback and uninstall on targets that
 * require it. A request is bound to the plan revision, the target revision
 * and, for an apply, the inputs and the objects of the last passed dry-run;
 * another user decides it; an approval admits exactly one operation.
 */
export class ApprovalService implements ChangeGate {
  private constructor(
    private readonly store: DatabaseApprovalStore,
    private readonly plans: Pick<PlanService, 'getStored'>,
    private readonly targets: Pick<TargetService, 'getStored'>,
    private readonly operations: Pick<DatabaseOperationStore, 'get'>,
    private readonly inputsHashOf: (
      planId: string,
      caller: OperationCaller,
    ) => Promise<string>,
    private readonly ttlMs: number,
    private readonly notifyRefs: string[],
    private readonly sender: NotificationSender,
    private readonly clock: () => Date,
  ) {}

  static create(options: {
    store: DatabaseApprovalStore;
    plans: Pick<PlanService, 'getStored'>;
    targets: Pick<TargetService, 'getStored'>;
    operations: Pick<DatabaseOperationStore, 'get'>;
    /** The plan's inputs hash now, computed as an apply computes it. */
    inputsHashOf: (planId: string, caller: OperationCaller) => Promise<string>;
    /** How long a request and an approval stay good (deployments.approvals.ttlMinutes). */
    ttlMinutes: number;
    /** Entity refs told of every request besides the target's owner (deployments.approvals.notify). */
    notify?: string[];
    notifications?: NotificationService;
    logger: LoggerService;
    /** For tests of expiry. */
    clock?: () => Date;
  }): ApprovalService {
    if (!(options.ttlMinutes > 0)) {
      throw new InputError(
        `deployments.approvals.ttlMinutes must be a positive number, got ${options.ttlMinutes}`,
      );
    }
    return new ApprovalService(
      options.store,
      options.plans,
      options.targets,
      options.operations,
      options.inputsHashOf,
      options.ttlMinutes * 60_000,
      options.notify ?? [],
      NotificationSender.create({
        notifications: options.notifications,
        logger: options.logger,
      }),
      options.clock ?? (() => new Date()),
    );
  }

  /** A plan's requests, newest first, with expired and void ones shown as such. */
  async list(
    planId: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: ApprovalRequest[]; totalCount: number }> {
    const { plan, target } = await this.load(planId);
    const binding = await this.bindingOf(plan, target);
    const now = this.now();
    const { items, totalCount } = await this.store.listForPlan(planId, page);
    return {
      items: items.map(a => toApiApproval(a, statusOf(a, binding, now))),
      totalCount,
    };
  }

  /** Asks another user to approve one change of the plan as it stands now. */
  async request(
    planId: string,
    input: ApprovalRequestInput,
    caller: OperationCaller,
  ): Promise<ApprovalRequest> {
    const { plan, target } = await this.load(planId);
    if (!target.requireApproval) {
      throw new ConflictError(
        `Target "${target.name}" does not require approval`,
      );
    }
    if (input.rollbackRevision !== undefined && input.kind !== 'rollback') {
      throw new InputError('rollbackRevision is only for a rollback');
    }
    let dryRun: CurrentBinding['dryRun'];
    if (input.kind === 'apply') {
      // The approver approves what the dry-run showed: it must be of the inputs an apply would use now.
      const current = await this.inputsHashOf(planId, caller);
      dryRun = (await this.bindingOf(plan, target)).dryRun;
      if (!dryRun || dryRun.inputsHash !== current) {
        throw new ConflictError(
          'An apply is approved on a passed dry-run of the current inputs; run the dry-run first',
        );
      }
      if (!dryRun.manifestHash) {
        throw new ConflictError(
          'The last dry-run did not record the objects it checked; run the dry-run again',
        );
      }
    }
    const now = this.now();
    const approval: StoredApproval = {
      id: randomUUID(),
      planId,
      planRevision: plan.revision,
      targetRevision: target.revision,
      kind: input.kind,
      rollbackRevision: input.rollbackRevision,
      inputsHash: dryRun?.inputsHash,
      manifestHash: dryRun?.manifestHash,
      dryRunOperationId: dryRun?.operationId,
      status: 'pending',
      requestedBy: caller.actor,
      requestedAt: now,
      comment: input.comment,
      expiresAt: new Date(Date.parse(now) + this.ttlMs).toISOString(),
    };
    await this.store.insertReplacingPending(approval);
    await this.notify({
      recipients: {
        type: 'entity',
        entityRef: [
          ...new Set([
            ...(target.owner ? [target.owner] : []),
            ...this.notifyRefs,
          ]),
        ],
        // Nobody approves their own request: no point telling them.
        excludeEntityRef: caller.actor,
      },
      payload: {
        title: `Approval requested: ${describeChange(approval, plan, target)}`,
        description: `${
          caller.actor
        } asks another user to approve ${describeChange(
          approval,
          plan,
          target,
        )} (plan revision ${plan.revision}).${
          input.comment ? ` Comment: ${input.comment}` : ''
        } It expires at ${approval.expiresAt}.`,
        link: planLink(
          plan,
          input.kind === 'apply' ? 'dry-run' : 'deployments',
        ),
        severity: target.production ? 'high' : 'normal',
        topic: `deployments-approval:${planId}`,
        scope: `deployments-approval:${approval.id}`,
      },
    });
    return toApiApproval(approval, 'pending');
  }

  /** Approves or rejects another user's pending request. */
  async decide(
    planId: string,
    approvalId: string,
    input: ApprovalDecisionInput,
    caller: OperationCaller,
  ): Promise<ApprovalRequest> {
    const approval = await this.store.get(approvalId);
    if (!approval || approval.planId !== planId) {
      throw new NotFoundError(
        `Approval request ${approvalId} of plan ${planId} not found`,
      );
    }
    // Four eyes: whatever the permission policy grants, the requester is not the second pair.
    if (approval.requestedBy === caller.actor) {
      throw new NotAllowedError(
        'Nobody decides their own approval request: another user must',
      );
    }
    const { plan, target } = await this.load(planId);
    const now = this.now();
    const status = statusOf(approval, await this.bindingOf(plan, target), now);
    if (status === 'expired') {
      throw new ConflictError(
        `The request expired at ${approval.expiresAt}; the requester can ask again`,
      );
    }
    if (status === 'void') {
      throw new ConflictError(
        'The plan, its target or its dry-run changed since the request; the request is void and the requester can ask again',
      );
    }
    if (status !== 'pending') {
      throw new ConflictError(`The request is already ${status}`);
    }
    const decided = await this.store.decide(approvalId, {
      status: input.decision === 'approve' ? 'approved' : 'rejected',
      decidedBy: caller.actor,
      decidedAt: now,
      decisionComment: input.comment,
    });
    const stored = await this.store.get(approvalId);
    if (!decided || !stored) {
      // Another decision, a newer request or the expiry came first.
      throw new ConflictError(
        `The request is no longer pending (${stored?.status ?? 'gone'})`,
      );
    }
    await this.notify({
      recipients: { type: 'entity', entityRef: approval.requestedBy },
      payload: {
        title: `${
          input.decision === 'approve' ? 'Approved' : 'Rejected'
        }: ${describeChange(approval, plan, target)}`,
        description: `${caller.actor} ${
          input.decision === 'approve' ? 'approved' : 'rejected'
        } your request.${input.comment ? ` Comment: ${input.comment}` : ''}${
          input.decision === 'approve'
            ? ` It can be used once until ${approval.expiresAt}.`
            : ''
        }`,
        link: planLink(plan, 'deployments'),
        severity: target.production ? 'high' : 'normal',
        topic: `deployments-approval:${planId}`,
        scope: `deployments-approval:${approval.id}`,
      },
    });
    return toApiApproval(stored, stored.status);
  }

  /**
   * The gate: on a target that requires approval, the change needs an
   * approved, unexpired, unused approval of exactly this change, which it
   * uses up.
   */
  async admit(request: ChangeRequest): Promise<ChangeAdmission> {
    const { plan, target } = request;
    if (!target.requireApproval) return NO_ADMISSION;
    const now = this.now();
    const usable = (
      await this.store.listUsable(plan.id, request.kind, now)
    ).filter(approval => mismatchOf(approval, request) === undefined);
    for (const approval of usable) {
      if (await this.store.markUsed(approval.id, now)) {
        return {
          started: operationId =>
            this.store.recordUse(approval.id, operationId),
          abandoned: () => this.store.releaseUse(approval.id),
        };
      }
    }
    throw await this.refusal(request, now);
  }

  /** Says what is missing, from the newest request of this plan and kind. */
  private async refusal(request: ChangeRequest, now: string): Promise<Error> {
    const { plan, target, kind } = request;
    const needs = `${VERBS[kind]} release "${plan.releaseName}" on target "${target.name}" needs an approval by another user`;
    const [newest] = await this.store.listRecent(plan.id, kind, 1);
    if (!newest) return new NotAllowedError(`${needs}: request one`);
    const mismatch = mismatchOf(newest, request);
    const by = newest.decidedBy ?? newest.requestedBy;
    switch (newest.status) {
      case 'pending':
        if (newest.expiresAt <= now) {
          return new NotAllowedError(
            `${needs}: the request from ${newest.requestedBy} expired at ${newest.expiresAt}; request a new one`,
          );
        }
        return mismatch
          ? new ConflictError(
              `${needs}: the pending request from ${newest.requestedBy} was for ${mismatch}; request a new one`,
            )
          : new NotAllowedError(
              `${needs}: the pending request from ${newest.requestedBy} is waiting for a decision`,
            );
      case 'approved':
        if (newest.expiresAt <= now) {
          return new ConflictError(
            `${needs}: the approval by ${by} expired at ${newest.expiresAt}; request a new one`,
          );
        }
        return new ConflictError(
          mismatch
            ? `${needs}: the approval by ${by} was for ${mismatch}; request a new one`
            : `${needs}: the approval by ${by} was used by another operation just now; request a new one`,
        );
      case 'rejected':
        return new NotAllowedError(
          `${needs}: ${by} rejected the last request${
            newest.decisionComment ? ` (${newest.decisionComment})` : ''
          }`,
        );
      case 'used':
        return new NotAllowedError(
          `${needs}: the last approval was used${
            newest.usedByOperationId
              ? ` by operation ${newest.usedByOperationId}`
              : ''
          } and allows one change; request a new one`,
        );
      default:
        return new NotAllowedError(`${needs}: request one`);
    }
  }

  private async load(
    planId: string,
  ): Promise<{ plan: StoredPlan; target: StoredTarget }> {
    const plan = await this.plans.getStored(planId);
    const target = await this.targets.getStored(plan.targetName);
    return { plan, target };
  }

  private async bindingOf(
    plan: StoredPlan,
    target: StoredTarget,
  ): Promise<CurrentBinding> {
    const last = plan.lastDryRun;
    let dryRun: CurrentBinding['dryRun'];
    if (last?.passed) {
      const operation = await this.operations.get(last.operationId);
      dryRun = {
        operationId: last.operationId,
        inputsHash: last.inputsHash,
        manifestHash: (operation?.result as DryRunResult | undefined)?.rendered
          ?.digest,
      };
    }
    return {
      planRevision: plan.revision,
      targetRevision: target.revision,
      dryRun,
    };
  }

  private async notify(options: NotificationSendOptions): Promise<void> {
    await this.sender.send(
      options,
      'the target has no owner and deployments.approvals.notify is empty',
    );
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

/** Where a pending or approved request stands now: expired, or void when what it was bound to changed. */
export function statusOf(
  approval: StoredApproval,
  binding: CurrentBinding,
  now: string,
): ApprovalStatus {
  if (approval.status !== 'pending' && approval.status !== 'approved') {
    return approval.status;
  }
  const bound =
    approval.planRevision === binding.planRevision &&
    approval.targetRevision === binding.targetRevision &&
    (approval.kind !== 'apply' ||
      (approval.inputsHash === binding.dryRun?.inputsHash &&
        approval.manifestHash === binding.dryRun?.manifestHash));
  if (!bound) return 'void';
  return approval.expiresAt <= now ? 'expired' : approval.status;
}

/** How an approval differs from the change asked for, or undefined if it is for exactly that change. */
function mismatchOf(
  approval: StoredApproval,
  request: ChangeRequest,
): string | undefined {
  if (approval.planRevision !== request.plan.revision) {
    return `plan revision ${approval.planRevision} (now ${request.plan.revision})`;
  }
  if (approval.targetRevision !== request.target.revision) {
    return `target revision ${approval.targetRevision} (now ${request.target.revision})`;
  }
  if (
    approval.kind === 'apply' &&
    (approval.inputsHash !== request.inputsHash ||
      approval.manifestHash !== request.manifestHash)
  ) {
    return 'other inputs or another dry-run';
  }
  if (
    approval.kind === 'rollback' &&
    approval.rollbackRevision !== request.rollbackRevision
  ) {
    return approval.rollbackRevision === undefined
      ? 'a rollback to the last deployed revision'
      : `a rollback to revision ${approval.rollbackRevision}`;
  }
  return undefined;
}

function describeChange(
  approval: StoredApproval,
  plan: StoredPlan,
  target: StoredTarget,
): string {
  const where = `release "${plan.releaseName}" in namespace "${plan.namespace}" on target "${target.name}"`;
  switch (approval.kind) {
    case 'apply':
      return `apply of ${where}`;
    case 'rollback':
      return `rollback of ${where}${
        approval.rollbackRevision === undefined
          ? ''
          : ` to revision ${approval.rollbackRevision}`
      }`;
    default:
      return `uninstall of ${where}`;
  }
}

/**
 * The API view: the manifest hash stays in the backend, like the render
 * guard's digests (a digest of objects that may hold a profile secret lets
 * a plan reader test guesses of it).
 */
export function toApiApproval(
  approval: StoredApproval,
  status: ApprovalStatus,
): ApprovalRequest {
  const { targetRevision: _t, manifestHash: _m, ...api } = approval;
  return { ...api, status };
}
