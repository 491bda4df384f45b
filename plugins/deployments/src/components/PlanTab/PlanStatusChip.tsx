import {
  ApprovalStatus,
  OperationStatus,
  ReleasePlanStatus,
} from '@kubedeploy/plugin-deployments-common';
import Chip from '@material-ui/core/Chip';
import { makeStyles } from '@material-ui/core/styles';

type Tone = 'ok' | 'error' | 'warning' | 'running' | 'pending' | 'neutral';

const useStyles = makeStyles(theme => {
  // Backstage themes add status colours to the MUI palette.
  const status = (theme.palette as { status?: Partial<Record<string, string>> })
    .status;
  const tone = (color: string | undefined) => ({
    color: theme.palette.getContrastText(color ?? theme.palette.grey[500]),
    backgroundColor: color ?? theme.palette.grey[500],
    fontWeight: 'bold' as const,
  });
  return {
    ok: tone(status?.ok),
    error: tone(status?.error),
    warning: tone(status?.warning),
    running: tone(status?.running),
    pending: tone(status?.pending),
    neutral: tone(theme.palette.grey[300]),
  };
});

const PLAN_STATUS: Record<ReleasePlanStatus, { label: string; tone: Tone }> = {
  draft: { label: 'draft', tone: 'neutral' },
  'dry-run-passed': { label: 'dry-run passed', tone: 'pending' },
  'dry-run-failed': { label: 'dry-run failed', tone: 'error' },
  'preflight-passed': { label: 'preflight passed', tone: 'pending' },
  'preflight-failed': { label: 'preflight failed', tone: 'error' },
  applying: { label: 'applying', tone: 'running' },
  deployed: { label: 'deployed', tone: 'ok' },
  failed: { label: 'failed', tone: 'error' },
  'rolled-back': { label: 'rolled back', tone: 'warning' },
  interrupted: { label: 'interrupted', tone: 'warning' },
  uninstalled: { label: 'uninstalled', tone: 'neutral' },
};

const OPERATION_STATUS: Record<OperationStatus, Tone> = {
  running: 'running',
  succeeded: 'ok',
  failed: 'error',
  cancelled: 'warning',
  interrupted: 'warning',
};

/** A plan status in words ('preflight-passed' → 'preflight passed'). */
export function planStatusLabel(status: ReleasePlanStatus): string {
  return PLAN_STATUS[status]?.label ?? status;
}

/** Where a release plan stands, as a coloured chip. */
export function PlanStatusChip(props: { status: ReleasePlanStatus }) {
  const classes = useStyles();
  const { label, tone } = PLAN_STATUS[props.status] ?? {
    label: props.status,
    tone: 'neutral',
  };
  return (
    <Chip
      size="small"
      label={label}
      className={classes[tone]}
      data-testid="plan-status"
    />
  );
}

/** An operation's status as a coloured chip. */
export function OperationStatusChip(props: { status: OperationStatus }) {
  const classes = useStyles();
  return (
    <Chip
      size="small"
      label={props.status}
      className={classes[OPERATION_STATUS[props.status] ?? 'neutral']}
      data-testid="operation-status"
    />
  );
}

/** A pass/fail chip for a gate or a check. */
export function PassChip(props: { passed: boolean; label?: string }) {
  const classes = useStyles();
  return (
    <Chip
      size="small"
      label={props.label ?? (props.passed ? 'passed' : 'failed')}
      className={props.passed ? classes.ok : classes.error}
    />
  );
}

/** A gate that passed for inputs that have changed since: neither green nor red. */
export function StaleChip(props: { reason: string }) {
  const classes = useStyles();
  return (
    <Chip
      size="small"
      label="stale"
      title={`Stale: ${props.reason}`}
      className={classes.warning}
      data-testid="gate-stale"
    />
  );
}

const APPROVAL_STATUS: Record<ApprovalStatus, Tone> = {
  pending: 'pending',
  approved: 'ok',
  rejected: 'error',
  used: 'neutral',
  void: 'warning',
  expired: 'neutral',
};

/** Where an approval request stands, as a coloured chip. */
export function ApprovalStatusChip(props: { status: ApprovalStatus }) {
  const classes = useStyles();
  return (
    <Chip
      size="small"
      label={props.status}
      className={classes[APPROVAL_STATUS[props.status] ?? 'neutral']}
      data-testid="approval-status"
    />
  );
}
