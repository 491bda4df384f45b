/** The operations an approval can allow. @public */
export type ApprovalOperationKind = 'apply' | 'rollback' | 'uninstall';

/**
 * Where an approval request stands. `used` means an operation consumed it;
 * `void` that the plan's inputs changed after it was requested.
 * @public
 */
export type ApprovalStatus =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'used'
  | 'void'
  | 'expired';

/**
 * A request for a second person to approve one change of a plan. It is bound
 * to the exact inputs and to the objects the dry-run checked: any change to
 * them voids it.
 * @public
 */
export interface ApprovalRequest {
  id: string;
  planId: string;
  planRevision: number;
  kind: ApprovalOperationKind;
  /** For a rollback: the Helm revision to roll back to. */
  rollbackRevision?: number;
  /** The plan's inputs hash (apply) at the time of the request. */
  inputsHash?: string;
  /** Hash of the objects the dry-run checked (apply). */
  manifestHash?: string;
  /** The dry-run whose objects are approved (apply): its diff is what the approver sees. */
  dryRunOperationId?: string;
  status: ApprovalStatus;
  requestedBy: string;
  requestedAt: string;
  comment?: string;
  decidedBy?: string;
  decidedAt?: string;
  decisionComment?: string;
  /** An approval is good until then; a pending request expires too. */
  expiresAt: string;
  /** The operation that used the approval. */
  usedByOperationId?: string;
}

/** What a client sends to request an approval. @public */
export interface ApprovalRequestInput {
  kind: ApprovalOperationKind;
  rollbackRevision?: number;
  comment?: string;
}

/** An approver's decision. @public */
export interface ApprovalDecisionInput {
  decision: 'approve' | 'reject';
  comment?: string;
}
