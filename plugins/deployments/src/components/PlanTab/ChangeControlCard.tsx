import {
  InfoCard,
  Progress,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  ApprovalDecisionInput,
  ApprovalRequest,
  ChangeWindowStatus,
  deploymentsPlanApplyPermission,
  deploymentsPlanApprovePermission,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  errorMessage,
  formatRelativeTime,
  formatTime,
  PermissionButton,
} from '../shared';
import {
  ApprovalDecisionDialog,
  ApprovedDiffDialog,
  describeApprovalKind,
  RequestApprovalDialog,
} from './ApprovalDialogs';
import { ApprovalStatusChip } from './PlanStatusChip';
import { ChangeControlState } from './useChangeControl';

/** "in 3 hours (12/2/2026, 5:00:00 PM)": when, both ways. */
export function describeTime(iso: string): string {
  return `${formatRelativeTime(iso)} (${formatTime(iso)})`;
}

function WindowStatus(props: {
  window: ChangeControlState['window'];
  hasWindows?: boolean;
}) {
  const { window, hasWindows } = props;
  if (window.error) {
    return (
      <Alert severity="error" role="status" data-testid="change-window-status">
        Could not read the change window: {errorMessage(window.error)}
      </Alert>
    );
  }
  if (!window.value) return <Progress />;
  const status: ChangeWindowStatus = window.value;
  if (status.open) {
    let when = 'Changes may happen at any time.';
    if (status.closesAt) {
      when = `The window closes ${describeTime(status.closesAt)}.`;
    } else if (hasWindows) {
      when = 'No window end is scheduled.';
    }
    return (
      <Alert
        severity="success"
        role="status"
        data-testid="change-window-status"
      >
        <strong>Open now.</strong> {when}
      </Alert>
    );
  }
  return (
    <Alert severity="warning" role="status" data-testid="change-window-status">
      <strong>Closed now</strong>
      {status.reason ? `: ${status.reason}.` : '.'}{' '}
      {status.nextOpenAt
        ? `Next opens ${describeTime(status.nextOpenAt)}.`
        : 'No window is scheduled to open.'}{' '}
      Apply, rollback and uninstall wait for the window, unless someone allowed
      to makes an emergency override.
    </Alert>
  );
}

type Deciding = {
  approval: ApprovalRequest;
  decision: ApprovalDecisionInput['decision'];
};

function DecisionButtons(props: {
  approval: ApprovalRequest;
  plan: ReleasePlan;
  userEntityRef?: string;
  onDecide: (deciding: Deciding) => void;
}) {
  const { approval, plan, userEntityRef, onDecide } = props;
  if (approval.status !== 'pending') return null;
  const own =
    userEntityRef !== undefined && approval.requestedBy === userEntityRef
      ? 'You requested this; another user has to approve or reject it'
      : undefined;
  const what = describeApprovalKind(approval).toLowerCase();
  return (
    <Box display="flex" style={{ gap: 4 }}>
      <PermissionButton
        permission={deploymentsPlanApprovePermission}
        resourceRef={plan.id}
        size="small"
        color="primary"
        variant="outlined"
        disabledReason={own}
        aria-label={`Approve ${what} requested by ${approval.requestedBy}`}
        onClick={() => onDecide({ approval, decision: 'approve' })}
      >
        Approve
      </PermissionButton>
      <PermissionButton
        permission={deploymentsPlanApprovePermission}
        resourceRef={plan.id}
        size="small"
        color="secondary"
        disabledReason={own}
        aria-label={`Reject ${what} requested by ${approval.requestedBy}`}
        onClick={() => onDecide({ approval, decision: 'reject' })}
      >
        Reject
      </PermissionButton>
    </Box>
  );
}

/** Props of {@link ApprovalsPanel}. */
export interface ApprovalsPanelProps {
  plan: ReleasePlan;
  control: ChangeControlState;
}

/** A plan's approval requests: request one, look at the diff, approve or reject. */
export function ApprovalsPanel(props: ApprovalsPanelProps) {
  const { plan, control } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [requesting, setRequesting] = useState(false);
  const [deciding, setDeciding] = useState<Deciding | undefined>();
  const [diffOf, setDiffOf] = useState<ApprovalRequest | undefined>();
  const { approvals, userEntityRef } = control;
  const items = approvals.value?.items ?? [];

  const columns: TableColumn<ApprovalRequest>[] = [
    {
      title: 'Change',
      render: approval => (
        <>
          <Typography variant="body2">
            {describeApprovalKind(approval)}
          </Typography>
          <Typography variant="caption" color="textSecondary">
            plan revision {approval.planRevision}
            {approval.planRevision !== plan.revision ? ' (older)' : ''}
          </Typography>
        </>
      ),
    },
    {
      title: 'Status',
      render: approval => <ApprovalStatusChip status={approval.status} />,
    },
    {
      title: 'Requested',
      render: approval => (
        <>
          <Typography variant="body2">{approval.requestedBy}</Typography>
          <Typography variant="caption" color="textSecondary" component="p">
            {formatTime(approval.requestedAt)}
          </Typography>
          {approval.comment && (
            <Typography variant="body2" component="p">
              “{approval.comment}”
            </Typography>
          )}
        </>
      ),
    },
    {
      title: 'Decision',
      render: approval =>
        approval.decidedBy ? (
          <>
            <Typography variant="body2">{approval.decidedBy}</Typography>
            <Typography variant="caption" color="textSecondary" component="p">
              {formatTime(approval.decidedAt)}
            </Typography>
            {approval.decisionComment && (
              <Typography variant="body2" component="p">
                “{approval.decisionComment}”
              </Typography>
            )}
          </>
        ) : (
          '—'
        ),
    },
    {
      title: 'Expires',
      render: approval =>
        ['pending', 'approved'].includes(approval.status) ? (
          <>
            <Typography variant="body2">
              {formatRelativeTime(approval.expiresAt)}
            </Typography>
            <Typography variant="caption" color="textSecondary">
              {formatTime(approval.expiresAt)}
            </Typography>
          </>
        ) : (
          '—'
        ),
    },
    {
      title: 'Actions',
      render: approval => (
        <Box display="flex" flexWrap="wrap" style={{ gap: 4 }}>
          {approval.dryRunOperationId && (
            <Button
              size="small"
              aria-label={`Show the diff of ${describeApprovalKind(
                approval,
              ).toLowerCase()} requested by ${approval.requestedBy}`}
              onClick={() => setDiffOf(approval)}
            >
              Diff
            </Button>
          )}
          <DecisionButtons
            approval={approval}
            plan={plan}
            userEntityRef={userEntityRef}
            onDecide={setDeciding}
          />
        </Box>
      ),
    },
  ];

  let body;
  if (approvals.error) {
    body = (
      <Alert severity="error">
        Could not list the approval requests: {errorMessage(approvals.error)}
      </Alert>
    );
  } else if (!approvals.value) {
    body = <Progress />;
  } else if (items.length === 0) {
    body = (
      <Typography variant="body2" color="textSecondary">
        No approval requests yet. Request one once the dry-run shows what the
        change does; another user approves it.
      </Typography>
    );
  } else {
    body = (
      <Table<ApprovalRequest>
        columns={columns}
        data={items}
        options={{
          paging: false,
          search: false,
          toolbar: false,
          padding: 'dense',
        }}
      />
    );
  }

  return (
    <Box mt={2} data-testid="approvals">
      <Box display="flex" alignItems="center" style={{ gap: 8 }} mb={1}>
        <Typography variant="subtitle2">
          Approvals
          {approvals.value && approvals.value.totalCount > items.length
            ? ` (newest ${items.length} of ${approvals.value.totalCount})`
            : ''}
        </Typography>
        <Box flexGrow={1} />
        <PermissionButton
          permission={deploymentsPlanApplyPermission}
          resourceRef={plan.id}
          size="small"
          variant="outlined"
          color="primary"
          onClick={() => setRequesting(true)}
        >
          Request approval
        </PermissionButton>
      </Box>
      {body}
      <RequestApprovalDialog
        open={requesting}
        plan={plan}
        onSubmit={async input => {
          await api.requestPlanApproval(plan.id, input);
          alertApi.post({
            message: 'Approval requested: another user can approve it now.',
            severity: 'success',
            display: 'transient',
          });
          control.reload();
        }}
        onClose={() => setRequesting(false)}
      />
      <ApprovalDecisionDialog
        deciding={deciding}
        onSubmit={async (approval, input) => {
          await api.decidePlanApproval(plan.id, approval.id, input);
          alertApi.post({
            message:
              input.decision === 'approve'
                ? `Approved: ${approval.requestedBy} can go ahead.`
                : `Rejected the request of ${approval.requestedBy}.`,
            severity: 'success',
            display: 'transient',
          });
          control.reload();
        }}
        onClose={() => setDeciding(undefined)}
      />
      <ApprovedDiffDialog
        approval={diffOf}
        onClose={() => setDiffOf(undefined)}
      />
    </Box>
  );
}

/** Props of {@link ChangeControlCard}. */
export interface ChangeControlCardProps {
  plan: ReleasePlan;
  control: ChangeControlState;
}

/**
 * Who may change the plan's release and when: the target's production
 * marker, whether its change window is open, and its approval requests.
 */
export function ChangeControlCard(props: ChangeControlCardProps) {
  const { plan, control } = props;
  const target = control.target.value;
  const showApprovals =
    target?.requireApproval || (control.approvals.value?.totalCount ?? 0) > 0;
  return (
    <InfoCard
      title={
        <Box display="flex" alignItems="center" style={{ gap: 8 }}>
          <span>Change control</span>
          {target?.production && (
            <Chip
              size="small"
              color="secondary"
              label="Production"
              data-testid="production-marker"
            />
          )}
          {target?.requireApproval && (
            <Chip size="small" variant="outlined" label="Approval required" />
          )}
        </Box>
      }
      subheader={`Target ${plan.target}`}
    >
      <div data-testid="change-control">
        {control.target.error && (
          <Alert severity="info" style={{ marginBottom: 8 }}>
            The target's settings are not readable for you (
            {errorMessage(control.target.error)}); the backend still applies its
            approval and window rules.
          </Alert>
        )}
        <WindowStatus
          window={control.window}
          hasWindows={target ? target.changeWindows !== undefined : undefined}
        />
        {showApprovals && <ApprovalsPanel plan={plan} control={control} />}
      </div>
    </InfoCard>
  );
}
