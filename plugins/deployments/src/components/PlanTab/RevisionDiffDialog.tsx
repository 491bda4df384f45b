import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ReleaseRevisionInputs } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { UnifiedDiff } from '../DryRunTab/UnifiedDiff';
import { errorMessage } from '../shared';

/** Props of {@link RevisionDiffDialog}. */
export interface RevisionDiffDialogProps {
  planId: string;
  fromRevision: number;
  toRevision: number;
  onClose: () => void;
}

function describe(inputs: ReleaseRevisionInputs): string {
  return [
    `revision ${inputs.revision}`,
    inputs.chartVersion ? `chart ${inputs.chartVersion}` : inputs.chart,
    inputs.profileRevision !== undefined &&
      `profile revision ${inputs.profileRevision}`,
    inputs.rollbackOf !== undefined && `rollback to ${inputs.rollbackOf}`,
    inputs.actor && `by ${inputs.actor}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Two Helm revisions of the release compared: values and rendered objects. */
export function RevisionDiffDialog(props: RevisionDiffDialogProps) {
  const { planId, fromRevision, toRevision, onClose } = props;
  const api = useApi(deploymentsApiRef);
  const diff = useAsync(
    () => api.getPlanHistoryDiff(planId, fromRevision, toRevision),
    [api, planId, fromRevision, toRevision],
  );
  const changed =
    diff.value?.objects.filter(o => o.change !== 'unchanged') ?? [];
  return (
    <Dialog open onClose={onClose} maxWidth="lg" fullWidth>
      <DialogTitle>
        Revision {fromRevision} → revision {toRevision}
      </DialogTitle>
      <DialogContent dividers data-testid="revision-diff-dialog">
        {diff.loading && <Progress />}
        {diff.error && (
          <Alert severity="error">
            Could not compare the revisions: {errorMessage(diff.error)}
          </Alert>
        )}
        {diff.value && (
          <>
            <Typography variant="body2">
              From {describe(diff.value.from)}
            </Typography>
            <Typography variant="body2" gutterBottom>
              To {describe(diff.value.to)}
            </Typography>
            {diff.value.notes.map(note => (
              <Alert key={note} severity="info" style={{ marginBottom: 8 }}>
                {note}
              </Alert>
            ))}
            <Box mt={2}>
              <Typography variant="subtitle2">
                Values (secrets shown as markers that change with the value)
              </Typography>
              {diff.value.valuesDiff ? (
                <UnifiedDiff
                  diff={diff.value.valuesDiff}
                  data-testid="history-values-diff"
                />
              ) : (
                <Typography variant="body2" color="textSecondary">
                  {diff.value.from.recorded && diff.value.to.recorded
                    ? 'The values are the same.'
                    : 'Not known for both revisions.'}
                </Typography>
              )}
            </Box>
            {diff.value.defaultValuesDiff && (
              <Box mt={2}>
                <Typography variant="subtitle2">
                  The chart's default values
                </Typography>
                <UnifiedDiff diff={diff.value.defaultValuesDiff} />
              </Box>
            )}
            <Box mt={2}>
              <Typography variant="subtitle2">
                Rendered objects: {changed.length} of{' '}
                {diff.value.objects.length} differ
              </Typography>
              {changed.map(object => (
                <Box key={object.key} mt={1}>
                  <Typography variant="body2">
                    <strong>{object.change}</strong> {object.key}
                  </Typography>
                  {object.diff && <UnifiedDiff diff={object.diff} />}
                </Box>
              ))}
            </Box>
          </>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
