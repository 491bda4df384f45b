import {
  ApprovalOperationKind,
  ApprovalRequest,
  ApprovalStatus,
} from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';

/** An approval request as stored: bound to the target revision too. */
export interface StoredApproval extends ApprovalRequest {
  targetRevision: number;
}

const APPROVALS = 'deployments_approvals';

type ApprovalRow = {
  id: string;
  plan_id: string;
  plan_revision: number | string;
  target_revision: number | string;
  kind: ApprovalOperationKind;
  rollback_revision: number | string | null;
  inputs_hash: string | null;
  manifest_hash: string | null;
  dry_run_operation_id: string | null;
  status: ApprovalStatus;
  requested_by: string;
  requested_at: string;
  comment: string | null;
  decided_by: string | null;
  decided_at: string | null;
  decision_comment: string | null;
  expires_at: string;
  used_by_operation_id: string | null;
};

function fromRow(row: ApprovalRow): StoredApproval {
  return {
    id: row.id,
    planId: row.plan_id,
    planRevision: Number(row.plan_revision),
    targetRevision: Number(row.target_revision),
    kind: row.kind,
    rollbackRevision:
      row.rollback_revision === null
        ? undefined
        : Number(row.rollback_revision),
    inputsHash: row.inputs_hash ?? undefined,
    manifestHash: row.manifest_hash ?? undefined,
    dryRunOperationId: row.dry_run_operation_id ?? undefined,
    status: row.status,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    comment: row.comment ?? undefined,
    decidedBy: row.decided_by ?? undefined,
    decidedAt: row.decided_at ?? undefined,
    decisionComment: row.decision_comment ?? undefined,
    expiresAt: row.expires_at,
    usedByOperationId: row.used_by_operation_id ?? undefined,
  };
}

function toRow(approval: StoredApproval): ApprovalRow {
  return {
    id: approval.id,
    plan_id: approval.planId,
    plan_revision: approval.planRevision,
    target_revision: approval.targetRevision,
    kind: approval.kind,
    rollback_revision: approval.rollbackRevision ?? null,
    inputs_hash: approval.inputsHash ?? null,
    manifest_hash: approval.manifestHash ?? null,
    dry_run_operation_id: approval.dryRunOperationId ?? null,
    status: approval.status,
    requested_by: approval.requestedBy,
    requested_at: approval.requestedAt,
    comment: approval.comment ?? null,
    decided_by: approval.decidedBy ?? null,
    decided_at: approval.decidedAt ?? null,
    decision_comment: approval.decisionComment ?? null,
    expires_at: approval.expiresAt,
    used_by_operation_id: approval.usedByOperationId ?? null,
  };
}

/**
 * Approval requests in the plugin's database. Every change of status is a
 * conditional update on the status it leaves, so two replicas (or two
 * requests) racing cannot both decide a request or both use an approval.
 */
export class DatabaseApprovalStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseApprovalStore {
    return new DatabaseApprovalStore(db);
  }

  /**
   * Stores a new pending request and voids the older pending request of the
   * same plan and kind: one request waits per plan and kind.
   */
  async insertReplacingPending(approval: StoredApproval): Promise<void> {
    await this.db.transaction(async tx => {
      await tx(APPROVALS)
        .where({
          plan_id: approval.planId,
          kind: approval.kind,
          status: 'pending',
        })
        .update({ status: 'void' });
      await tx(APPROVALS).insert(toRow(approval));
    });
  }

  async get(id: string): Promise<StoredApproval | undefined> {
    const row = await this.db(APPROVALS).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  /** A plan's requests, newest first. */
  async listForPlan(
    planId: string,
    options: { limit: number; offset: number },
  ): Promise<{ items: StoredApproval[]; totalCount: number }> {
    const [rows, [{ count }]] = await Promise.all([
      this.db(APPROVALS)
        .where({ plan_id: planId })
        .orderBy([
          { column: 'requested_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(options.limit)
        .offset(options.offset),
      this.db(APPROVALS)
        .where({ plan_id: planId })
        .count<Array<{ count: number | string }>>({ count: '*' }),
    ]);
    return { items: rows.map(fromRow), totalCount: Number(count) };
  }

  /** Approved, unused and unexpired approvals of a plan and kind, newest first. */
  async listUsable(
    planId: string,
    kind: ApprovalOperationKind,
    now: string,
  ): Promise<StoredApproval[]> {
    const rows = await this.db(APPROVALS)
      .where({ plan_id: planId, kind, status: 'approved' })
      .andWhere('expires_at', '>', now)
      .orderBy([
        { column: 'decided_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ]);
    return rows.map(fromRow);
  }

  /** The newest requests of a plan and kind in any status, to explain a refusal. */
  async listRecent(
    planId: string,
    kind: ApprovalOperationKind,
    limit: number,
  ): Promise<StoredApproval[]> {
    const rows = await this.db(APPROVALS)
      .where({ plan_id: planId, kind })
      .orderBy([
        { column: 'requested_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit);
    return rows.map(fromRow);
  }

  /**
   * pending → approved or rejected, only while the request is still pending
   * and not expired at `now`. Returns whether this call decided it.
   */
  async decide(
    id: string,
    decision: {
      status: 'approved' | 'rejected';
      decidedBy: string;
      decidedAt: string;
      decisionComment?: string;
    },
  ): Promise<boolean> {
    const updated = await this.db(APPROVALS)
      .where({ id, status: 'pending' })
      .andWhere('expires_at', '>', decision.decidedAt)
      .update({
        status: decision.status,
        decided_by: decision.decidedBy,
        decided_at: decision.decidedAt,
        decision_comment: decision.decisionComment ?? null,
      });
    return updated === 1;
  }

  /**
   * approved → used, only if it is still approved and unexpired: of two
   * operations racing for one approval, exactly one gets it.
   */
  async markUsed(id: string, now: string): Promise<boolean> {
    const updated = await this.db(APPROVALS)
      .where({ id, status: 'approved' })
      .andWhere('expires_at', '>', now)
      .update({ status: 'used' });
    return updated === 1;
  }

  /** Records the operation that used an approval. */
  async recordUse(id: string, operationId: string): Promise<void> {
    await this.db(APPROVALS)
      .where({ id, status: 'used' })
      .update({ used_by_operation_id: operationId });
  }

  /** used → approved when the operation did not start after all. */
  async releaseUse(id: string): Promise<void> {
    await this.db(APPROVALS)
      .where({ id, status: 'used' })
      .whereNull('used_by_operation_id')
      .update({ status: 'approved' });
  }
}
