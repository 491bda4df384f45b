import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ApprovalDecisionInput,
  ApprovalOperationKind,
  ApprovalRequest,
  ApprovalRequestInput,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { DryRunResultView } from '../DryRunTab/DryRunResultView';
import { errorMessage, formatTime, shortDigest } from '../shared';

/** What an approval allows, in words. */
export function describeApprovalKind(
  approval: Pick<ApprovalRequest, 'kind' | 'rollbackRevision'>,
): string {
  if (approval.kind === 'rollback') {
    return approval.rollbackRevision
      ? `Roll back to revision ${approval.rollbackRevision}`
      : 'Roll back to the last deployed revision';
  }
  return approval.kind === 'apply' ? 'Apply' : 'Uninstall';
}

function useSubmission() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** Props of {@link RequestApprovalDialog}. */
export interface RequestApprovalDialogProps {
  open: boolean;
  plan: ReleasePlan;
  onSubmit: (input: ApprovalRequestInput) => Promise<void>;
  onClose: () => void;
}

/** Asks another user to approve one change of the plan. */
export function RequestApprovalDialog(props: RequestApprovalDialogProps) {
  const { open, plan } = props;
  const [kind, setKind] = useState<ApprovalOperationKind>('apply');
  const [revision, setRevision] = useState('');
  const [comment, setComment] = useState('');
  const { busy, error, setError, run } = useSubmission();

  useEffect(() => {
    if (open) {
      setKind('apply');
      setRevision('');
      setComment('');
      setError(undefined);
    }
  }, [open, setError]);

  const dryRun = plan.lastDryRun;
  const noDryRun =
    kind === 'apply' &&
    (!dryRun || !dryRun.passed || dryRun.planRevision !== plan.revision);
  const revisionNumber = revision.trim() ? Number(revision) : undefined;
  const revisionProblem =
    revisionNumber !== undefined &&
    (!Number.isInteger(revisionNumber) || revisionNumber < 1);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy || revisionProblem) return;
    const done = await run(() =>
      props.onSubmit({
        kind,
        ...(kind === 'rollback' && revisionNumber !== undefined
          ? { rollbackRevision: revisionNumber }
          : {}),
        ...(comment.trim() ? { comment: comment.trim() } : {}),
      }),
    );
    if (done) props.onClose();
  };

  return (
    <Dialog
      open={open}
      onClose={busy ? undefined : props.onClose}
      maxWidth="sm"
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle>Request approval for {plan.releaseName}</DialogTitle>
        <DialogContent>
          <Typography variant="body2">
            The target requires a second person's approval. Another user
            approves or rejects the request; you cannot approve your own.
          </Typography>
          <TextField
            select
            label="Change"
            value={kind}
            onChange={e => setKind(e.target.value as ApprovalOperationKind)}
            fullWidth
            margin="normal"
            inputProps={{ 'data-testid': 'approval-kind' }}
          >
            <MenuItem value="apply">Apply</MenuItem>
            <MenuItem value="rollback">Rollback</MenuItem>
            <MenuItem value="uninstall">Uninstall</MenuItem>
          </TextField>
          {kind === 'apply' && (
            <Alert severity={noDryRun ? 'warning' : 'info'} role="note">
              {noDryRun
                ? 'An apply approval is bound to the last passed dry-run of this plan revision: run the dry-run first.'
                : `The approver sees and approves the objects of the last dry-run (${formatTime(
                    dryRun?.at,
                  )}); editing the plan voids the approval.`}
            </Alert>
          )}
          {kind === 'rollback' && (
            <TextField
              label="Helm revision to roll back to"
              type="number"
              value={revision}
              onChange={e => setRevision(e.target.value)}
              error={revisionProblem}
              helperText={
                revisionProblem
                  ? 'A Helm revision is a whole number from 1'
                  : 'Empty: the last deployed revision'
              }
              fullWidth
              margin="normal"
              inputProps={{ min: 1 }}
            />
          )}
          <TextField
            label="Comment"
            value={comment}
            onChange={e => setComment(e.target.value)}
            helperText="Why this change, for the approver and the audit trail"
            multiline
            minRows={2}
            fullWidth
            margin="normal"
            inputProps={{ maxLength: 2000, 'data-testid': 'approval-comment' }}
          />
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy || revisionProblem}
          >
            {busy ? 'Requesting…' : 'Request approval'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** Props of {@link ApprovalDecisionDialog}. */
export interface ApprovalDecisionDialogProps {
  /** The request and the decision about to be made; closed when absent. */
  deciding?: {
    approval: ApprovalRequest;
    decision: ApprovalDecisionInput['decision'];
  };
  onSubmit: (
    approval: ApprovalRequest,
    input: ApprovalDecisionInput,
  ) => Promise<void>;
  onClose: () => void;
}

/** Approves or rejects a pending request, with a comment. */
export function ApprovalDecisionDialog(props: ApprovalDecisionDialogProps) {
  const { deciding } = props;
  const [comment, setComment] = useState('');
  const { busy, error, setError, run } = useSubmission();

  useEffect(() => {
    setComment('');
    setError(undefined);
  }, [deciding, setError]);

  if (!deciding) return null;
  const { approval, decision } = deciding;
  const verb = decision === 'approve' ? 'Approve' : 'Reject';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const done = await run(() =>
      props.onSubmit(approval, {
        decision,
        ...(comment.trim() ? { comment: comment.trim() } : {}),
      }),
    );
    if (done) props.onClose();
  };

  return (
    <Dialog
      open
      onClose={busy ? undefined : props.onClose}
      maxWidth="sm"
      fullWidth
    >
      <form onSubmit={submit}>
        <DialogTitle>
          {verb} “{describeApprovalKind(approval)}” requested by{' '}
          {approval.requestedBy}?
        </DialogTitle>
        <DialogContent>
          {approval.comment && (
            <Typography variant="body2" gutterBottom>
              Their comment: “{approval.comment}”
            </Typography>
          )}
          {decision === 'approve' && approval.kind === 'apply' && (
            <Typography variant="body2" color="textSecondary">
              You approve the objects of dry-run{' '}
              {approval.dryRunOperationId
                ? shortDigest(approval.dryRunOperationId, 8)
                : '—'}{' '}
              as they are: any change to the plan or its inputs voids the
              approval. Look at the diff first.
            </Typography>
          )}
          <TextField
            label="Comment"
            value={comment}
            onChange={e => setComment(e.target.value)}
            helperText="Recorded with your decision"
            multiline
            minRows={2}
            fullWidth
            margin="normal"
            inputProps={{ maxLength: 2000, 'data-testid': 'decision-comment' }}
          />
          {error && (
            <Alert severity="error" role="alert">
              {error}
            </Alert>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color={decision === 'approve' ? 'primary' : 'secondary'}
            variant="contained"
            disabled={busy}
          >
            {busy ? 'Saving…' : verb}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** Props of {@link ApprovedDiffDialog}. */
export interface ApprovedDiffDialogProps {
  /** The request whose dry-run to show; closed when absent. */
  approval?: ApprovalRequest;
  onClose: () => void;
}

/** The dry-run an apply request is bound to: the diff the approver approves. */
export function ApprovedDiffDialog(props: ApprovedDiffDialogProps) {
  const { approval } = props;
  const api = useApi(deploymentsApiRef);
  const operationId = approval?.dryRunOperationId;
  const operation = useAsync(
    async () => (operationId ? api.getOperation(operationId) : undefined),
    [api, operationId],
  );

  let body;
  if (operation.error) {
    body = (
      <ResponseErrorPanel
        title="Could not read the dry-run this request is bound to"
        error={operation.error}
      />
    );
  } else if (operation.loading) {
    body = <Progress />;
  } else if (operation.value?.result?.type !== 'dry-run') {
    body = (
      <Typography variant="body2" color="textSecondary">
        The dry-run has no result to show.
      </Typography>
    );
  } else {
    body = (
      <>
        <Typography variant="body2" color="textSecondary" gutterBottom>
          Dry-run by {operation.value.actor} at{' '}
          {formatTime(operation.value.createdAt)}, plan revision{' '}
          {operation.value.planRevision}, inputs{' '}
          <code title={operation.value.inputsHash}>
            {shortDigest(operation.value.inputsHash ?? '')}
          </code>
        </Typography>
        <DryRunResultView result={operation.value.result} />
      </>
    );
  }

  return (
    <Dialog
      open={approval !== undefined}
      onClose={props.onClose}
      maxWidth="lg"
      fullWidth
    >
      <DialogTitle>What the approval covers</DialogTitle>
      <DialogContent>
        <Box data-testid="approved-diff">{body}</Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
