import { Link } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  DryRunResult,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { ConfirmDialog, errorMessage, formatRelativeTime } from '../shared';

const MAX_WARNINGS = 8;

/** What a dry-run would change, by kind of change. */
export interface DryRunCounts {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

/** Counts a dry-run's objects by their change against the deployed release. */
export function countChanges(result: DryRunResult): DryRunCounts {
  const counts: DryRunCounts = {
    added: 0,
    changed: 0,
    removed: 0,
    unchanged: 0,
  };
  for (const object of result.objects) counts[object.change]++;
  return counts;
}

/** Props of {@link ApplyConfirmDialog}. */
export interface ApplyConfirmDialogProps {
  open: boolean;
  plan: ReleasePlan;
  /** A production target: the user types the release name to confirm. */
  production: boolean;
  /** Where the dry-run's full diff is (the Dry-run tab on this plan). */
  diffHref: string;
  onConfirm: () => void;
  onClose: () => void;
}

/**
 * Asks before an apply, showing what the plan's latest dry-run (the one
 * apply is bound to) will change: objects added, changed and removed, and
 * its warnings, with a link to the full diff.
 */
export function ApplyConfirmDialog(props: ApplyConfirmDialogProps) {
  const { open, plan, production, diffHref } = props;
  const api = useApi(deploymentsApiRef);
  const dryRunId = plan.lastDryRun?.operationId;
  const dryRun = useAsync(async () => {
    if (!open || !dryRunId) return undefined;
    const operation = await api.getOperation(dryRunId);
    return operation.result?.type === 'dry-run'
      ? (operation.result as DryRunResult)
      : undefined;
  }, [api, open, dryRunId]);

  const result = dryRun.value;
  const counts = result && countChanges(result);
  let summary;
  if (dryRun.loading) {
    summary = (
      <Typography variant="body2" color="textSecondary">
        Reading the dry-run…
      </Typography>
    );
  } else if (dryRun.error || !result || !counts) {
    summary = (
      <Alert severity="warning">
        The dry-run's summary could not be read
        {dryRun.error ? `: ${errorMessage(dryRun.error)}` : ''}. Check the full
        diff before applying.
      </Alert>
    );
  } else {
    summary = (
      <>
        <Box display="flex" style={{ gap: 16 }} data-testid="apply-summary">
          <Typography variant="body1">
            <strong>{counts.added}</strong> added
          </Typography>
          <Typography variant="body1">
            <strong>{counts.changed}</strong> changed
          </Typography>
          <Typography variant="body1">
            <strong>{counts.removed}</strong> removed
          </Typography>
          <Typography variant="body1" color="textSecondary">
            {counts.unchanged} unchanged
          </Typography>
        </Box>
        {result.warnings.length > 0 && (
          <Alert severity="warning" style={{ marginTop: 8 }}>
            <Typography variant="body2">
              {result.warnings.length} warning
              {result.warnings.length === 1 ? '' : 's'}
            </Typography>
            <Box component="ul" m={0} pl={2}>
              {result.warnings.slice(0, MAX_WARNINGS).map(warning => (
                <Typography
                  component="li"
                  variant="caption"
                  key={`${warning.object}:${warning.code}`}
                >
                  {warning.object}: {warning.message}
                </Typography>
              ))}
            </Box>
            {result.warnings.length > MAX_WARNINGS && (
              <Typography variant="caption">
                and {result.warnings.length - MAX_WARNINGS} more
              </Typography>
            )}
          </Alert>
        )}
      </>
    );
  }

  return (
    <ConfirmDialog
      open={open}
      title={`Apply ${plan.releaseName} to ${plan.target}/${plan.namespace}?`}
      confirmLabel="Apply"
      confirmationText={production ? plan.releaseName : undefined}
      busy={dryRun.loading}
      onConfirm={props.onConfirm}
      onClose={props.onClose}
    >
      <Typography variant="body2" gutterBottom>
        Helm upgrades the release with {plan.chart.name} {plan.chart.version} as
        checked by the dry-run of plan revision {plan.lastDryRun?.planRevision}{' '}
        ({formatRelativeTime(plan.lastDryRun?.at)}):
      </Typography>
      {summary}
      <Typography variant="body2" style={{ marginTop: 8 }}>
        <Link to={diffHref} data-testid="apply-diff-link">
          See the full diff on the Dry-run tab
        </Link>
      </Typography>
      {production && (
        <Alert severity="warning" style={{ marginTop: 16 }}>
          {plan.target} is a production target.
        </Alert>
      )}
    </ConfirmDialog>
  );
}
