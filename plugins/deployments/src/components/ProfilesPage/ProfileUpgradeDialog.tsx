import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  Chart,
  ValuesProfile,
  ValuesProfileUpgradeReport,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { errorMessage } from '../shared';

/** Props of {@link ProfileUpgradeDialog}. */
export interface ProfileUpgradeDialogProps {
  profile: ValuesProfile;
  /** The profile's chart now. */
  chart: Chart;
  /** Other registered versions of the same chart. */
  versions: Chart[];
  onClose: () => void;
  onUpgraded: (profile: ValuesProfile) => void;
}

function KeyList(props: { title: string; keys: string[]; testId: string }) {
  const { title, keys, testId } = props;
  return (
    <Box mb={2} data-testid={testId}>
      <Typography variant="subtitle2">{title}</Typography>
      {keys.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          None
        </Typography>
      ) : (
        <Box display="flex" flexWrap="wrap" style={{ gap: 4 }} mt={0.5}>
          {keys.map(key => (
            <Chip key={key} size="small" label={<code>{key}</code>} />
          ))}
        </Box>
      )}
    </Box>
  );
}

function UpgradeReport(props: { report: ValuesProfileUpgradeReport }) {
  const { report } = props;
  return (
    <>
      {report.violations.length > 0 ? (
        <Alert severity="error" data-testid="upgrade-violations">
          The values do not match {report.toVersion}'s schema; edit the profile
          first:
          <ul style={{ margin: '4px 0 0', paddingLeft: 20 }}>
            {report.violations.map(v => (
              <li key={`${v.path}:${v.message}`}>
                <code>{v.path || '/'}</code> {v.message}
              </li>
            ))}
          </ul>
        </Alert>
      ) : (
        <Alert severity="success">
          The values match {report.toVersion}'s schema.
          {report.secretPaths.length > 0 &&
            ` Secrets (${report.secretPaths.join(
              ', ',
            )}) are carried over sealed; nobody types them again.`}
        </Alert>
      )}
      <Box mt={2}>
        {report.droppedProfileKeys.length > 0 && (
          <Alert severity="warning" style={{ marginBottom: 16 }}>
            This profile sets keys the new version no longer has:{' '}
            {report.droppedProfileKeys.join(', ')}
          </Alert>
        )}
        <KeyList
          title={`Keys ${report.toVersion} dropped`}
          keys={report.droppedKeys}
          testId="upgrade-dropped"
        />
        <KeyList
          title={`Keys ${report.toVersion} added`}
          keys={report.addedKeys}
          testId="upgrade-added"
        />
      </Box>
    </>
  );
}

/**
 * "Upgrade to chart version…": picks another version of the profile's chart,
 * shows what the move does to the values (checked by the backend without
 * storing anything), and records the new revision when they fit.
 */
export function ProfileUpgradeDialog(props: ProfileUpgradeDialogProps) {
  const { profile, chart, versions, onClose, onUpgraded } = props;
  const api = useApi(deploymentsApiRef);
  const [chartId, setChartId] = useState(versions[0]?.id ?? '');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | undefined>();
  const preview = useAsync(
    async () =>
      chartId
        ? (
            await api.upgradeProfile(profile.id, {
              chartId,
              expectedRevision: profile.revision,
              dryRun: true,
            })
          ).report
        : undefined,
    [api, profile.id, profile.revision, chartId],
  );

  const upgrade = async () => {
    setSaving(true);
    setSaveError(undefined);
    try {
      const result = await api.upgradeProfile(profile.id, {
        chartId,
        expectedRevision: profile.revision,
      });
      if (result.profile) onUpgraded(result.profile);
    } catch (e) {
      setSaveError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Dialog open onClose={onClose} maxWidth="sm" fullWidth>
      <DialogTitle>
        Upgrade {profile.name} from {chart.name} {chart.version}
      </DialogTitle>
      <DialogContent dividers>
        <TextField
          id="deployments-profile-upgrade-version"
          label="Chart version"
          select
          SelectProps={{ native: true }}
          InputLabelProps={{ shrink: true }}
          value={chartId}
          onChange={e => setChartId(e.target.value)}
          variant="outlined"
          margin="dense"
          fullWidth
          inputProps={{ 'data-testid': 'upgrade-version' }}
        >
          {versions.map(v => (
            <option key={v.id} value={v.id}>
              {v.name} {v.version}
            </option>
          ))}
        </TextField>
        <Box mt={2}>
          {preview.loading && <Progress />}
          {preview.error && (
            <Alert severity="error">
              Could not check the upgrade: {errorMessage(preview.error)}
            </Alert>
          )}
          {preview.value && <UpgradeReport report={preview.value} />}
          {saveError && (
            <Alert severity="error" style={{ marginTop: 16 }}>
              {saveError}
            </Alert>
          )}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          disabled={
            saving ||
            !preview.value ||
            preview.value.violations.length > 0 ||
            !chartId
          }
          onClick={upgrade}
        >
          Upgrade to {versions.find(v => v.id === chartId)?.version ?? '…'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
