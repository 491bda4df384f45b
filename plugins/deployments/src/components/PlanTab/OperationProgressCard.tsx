import {
  InfoCard,
  LogViewer,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  ApplyResult,
  deploymentsPlanApplyPermission,
  DryRunResult,
  Operation,
  PreflightResult,
  RollbackResult,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import IconButton from '@material-ui/core/IconButton';
import Typography from '@material-ui/core/Typography';
import CloseIcon from '@material-ui/icons/Close';
import Alert from '@material-ui/lab/Alert';
import { useEffect, useRef, useState } from 'react';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { useOperationProgress } from '../../hooks/useOperationProgress';
import { errorMessage, formatTime, PermissionButton } from '../shared';
import { OperationStatusChip, PassChip } from './PlanStatusChip';
import { RolloutDiagnosisPanel } from './RolloutDiagnosisPanel';

const KIND_LABEL: Record<Operation['kind'], string> = {
  'dry-run': 'Dry-run',
  preflight: 'Preflight',
  apply: 'Apply',
  rollback: 'Rollback',
  uninstall: 'Uninstall',
};

/** Props of {@link OperationProgressCard}. */
export interface OperationProgressCardProps {
  operationId: string;
  planId: string;
  /** Called once when the followed operation finishes. */
  onFinished?: (operation: Operation) => void;
  onDismiss?: () => void;
}

/**
 * One operation, live: status, progress lines as they arrive, a Cancel
 * button while it runs, and what it found once it finished.
 */
export function OperationProgressCard(props: OperationProgressCardProps) {
  const { operationId, planId, onFinished, onDismiss } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const { operation, lines, error, droppedLines } =
    useOperationProgress(operationId);
  const [cancelling, setCancelling] = useState(false);
  const reported = useRef<string | undefined>();

  useEffect(() => {
    if (
      operation &&
      operation.status !== 'running' &&
      reported.current !== operation.id
    ) {
      reported.current = operation.id;
      onFinished?.(operation);
    }
  }, [operation, onFinished]);

  const cancel = async () => {
    setCancelling(true);
    try {
      await api.cancelOperation(operationId);
      alertApi.post({
        message: 'Cancellation requested; Helm is being stopped.',
        severity: 'info',
        display: 'transient',
      });
    } catch (e) {
      alertApi.post({
        message: `Could not cancel: ${errorMessage(e)}`,
        severity: 'error',
      });
    } finally {
      setCancelling(false);
    }
  };

  const running = operation?.status === 'running';
  const title = operation
    ? `${KIND_LABEL[operation.kind]} · ${operation.releaseName}`
    : 'Operation';

  return (
    <InfoCard
      title={title}
      subheader={
        operation
          ? `Started by ${operation.actor} at ${formatTime(
              operation.createdAt,
            )}${
              operation.durationMs !== undefined
                ? ` · took ${(operation.durationMs / 1000).toFixed(1)} s`
                : ''
            }`
          : undefined
      }
      action={
        <Box display="flex" alignItems="center" style={{ gap: 8 }} mt={1}>
          {operation && <OperationStatusChip status={operation.status} />}
          {running && (
            <PermissionButton
              permission={deploymentsPlanApplyPermission}
              resourceRef={planId}
              variant="outlined"
              color="secondary"
              size="small"
              busy={cancelling}
              disabledReason={
                operation?.cancelRequested
                  ? 'Cancellation already requested'
                  : undefined
              }
              onClick={cancel}
            >
              Cancel
            </PermissionButton>
          )}
          {!running && onDismiss && (
            <IconButton
              size="small"
              aria-label="Close the operation"
              onClick={onDismiss}
            >
              <CloseIcon fontSize="small" />
            </IconButton>
          )}
        </Box>
      }
    >
      <div data-testid="operation-progress">
        {!operation && !error && <Progress />}
        {error && !operation && (
          <ResponseErrorPanel
            title="Could not follow the operation. It may still be running; reload the page to see its state."
            error={error}
          />
        )}
        {running && <Progress />}
        {operation?.error && (
          <Alert severity="error" style={{ marginBottom: 8 }}>
            {operation.error}
          </Alert>
        )}
        {operation && operation.status !== 'running' && (
          <OperationOutcome operation={operation} />
        )}
        <Typography variant="caption" color="textSecondary" component="p">
          {lines.length === 0
            ? 'No progress lines yet.'
            : `${lines.length + droppedLines} progress line(s)${
                droppedLines ? ` (the first ${droppedLines} not shown)` : ''
              }`}
        </Typography>
        {lines.length > 0 && (
          <Box height={260} mt={1}>
            <LogViewer
              text={lines
                .map(line => `${formatClock(line.at)} ${line.text}`)
                .join('\n')}
            />
          </Box>
        )}
      </div>
    </InfoCard>
  );
}

function formatClock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleTimeString(undefined, { hour12: false });
}

function OperationOutcome(props: { operation: Operation }) {
  const { operation } = props;
  const result = operation.result;
  if (!result) return null;
  if (result.type === 'dry-run') {
    const dryRun = result as DryRunResult;
    return (
      <Box mb={1} data-testid="operation-outcome">
        <PassChip passed={dryRun.passed} />{' '}
        <Typography variant="body2" component="span">
          {dryRun.objects.length} object(s),{' '}
          {dryRun.objects.filter(o => o.change !== 'unchanged').length} changed,{' '}
          {dryRun.violations.length} violation(s), {dryRun.warnings.length}{' '}
          warning(s). The Dry-run tab shows the manifests and the diff.
        </Typography>
      </Box>
    );
  }
  if (result.type === 'preflight') {
    const preflight = result as PreflightResult;
    return (
      <Box mb={1} data-testid="operation-outcome">
        {preflight.checks.map(check => (
          <Box key={check.name} display="flex" alignItems="flex-start" mb={0.5}>
            <PassChip passed={check.passed} />
            <Box ml={1}>
              <Typography variant="body2">
                <strong>{check.name}</strong>: {check.message}
              </Typography>
              {check.missingRule && (
                <pre style={{ margin: 0, fontSize: 12 }}>
                  {check.missingRule}
                </pre>
              )}
            </Box>
          </Box>
        ))}
      </Box>
    );
  }
  if (result.type === 'apply') {
    const apply = result as ApplyResult;
    if (apply.diagnosis) {
      return (
        <Box data-testid="operation-outcome">
          <RolloutDiagnosisPanel diagnosis={apply.diagnosis} />
        </Box>
      );
    }
    return (
      <Typography variant="body2" data-testid="operation-outcome">
        Helm revision {apply.helmRevision ?? '—'} ({apply.helmStatus ?? '—'})
        {apply.rolledBack && ' · rolled back after a failure'}
        {apply.testsPassed !== undefined &&
          ` · tests ${apply.testsPassed ? 'passed' : 'failed'}`}
        {apply.differsFromDryRun && apply.differsFromDryRun.length > 0 && (
          <>
            <br />
            Rendered with different content than at the dry-run (identity and
            boundary checked again): {apply.differsFromDryRun.join(', ')}
          </>
        )}
      </Typography>
    );
  }
  const other = result as RollbackResult;
  return (
    <Typography variant="body2" data-testid="operation-outcome">
      {other.type === 'uninstall'
        ? 'Release uninstalled'
        : `Rolled back; now at Helm revision ${other.helmRevision ?? '—'}`}
      {other.helmStatus ? ` (${other.helmStatus})` : ''}
    </Typography>
  );
}
