import { DryRunValuesChange } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { UnifiedDiff } from './UnifiedDiff';

/** Props of {@link ValuesChangePanel}. */
export interface ValuesChangePanelProps {
  change: DryRunValuesChange;
}

/**
 * How a dry-run's values differ from the deployed revision: the profile
 * values (secrets as markers that change with the value) and, when the plan
 * moves to another chart version, the chart's default values.
 */
export function ValuesChangePanel(props: ValuesChangePanelProps) {
  const { change } = props;
  const { deployed, chartMove } = change;
  return (
    <Box mb={2} data-testid="values-change">
      <Typography variant="subtitle2" gutterBottom>
        Values against the deployed revision {deployed.revision} (
        {deployed.chartVersion
          ? `chart ${deployed.chartVersion}`
          : deployed.chart}
        {deployed.profileRevision !== undefined &&
          `, profile revision ${deployed.profileRevision}`}
        {deployed.actor && `, applied by ${deployed.actor}`})
      </Typography>
      {chartMove && (
        <Alert severity="info" style={{ marginBottom: 8 }}>
          This plan moves the release from chart version {chartMove.fromVersion}{' '}
          to {chartMove.toVersion}.
        </Alert>
      )}
      {change.valuesDiff && (
        <UnifiedDiff diff={change.valuesDiff} data-testid="values-diff" />
      )}
      {!change.valuesDiff && deployed.recorded && (
        <Typography variant="body2" color="textSecondary">
          The profile values are the same as deployed.
        </Typography>
      )}
      {chartMove?.defaultValuesDiff && (
        <>
          <Typography variant="subtitle2" style={{ marginTop: 8 }}>
            The chart's default values ({chartMove.fromVersion} →{' '}
            {chartMove.toVersion})
          </Typography>
          <UnifiedDiff
            diff={chartMove.defaultValuesDiff}
            data-testid="default-values-diff"
          />
        </>
      )}
      {change.notes.map(note => (
        <Typography key={note} variant="caption" color="textSecondary">
          {note}
        </Typography>
      ))}
    </Box>
  );
}
