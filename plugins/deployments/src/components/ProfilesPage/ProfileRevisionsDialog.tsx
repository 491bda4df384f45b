import { Progress, Table, TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ValuesProfile,
  ValuesProfileRevision,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { UnifiedDiff } from '../DryRunTab/UnifiedDiff';
import { diffValues, maskedValues } from '../ValuesForm/profileValues';
import { errorMessage, formatTime, shortDigest } from '../shared';

function masked(revision: ValuesProfileRevision) {
  return maskedValues(
    revision.values,
    revision.secretPaths,
    revision.secretPaths,
  );
}

function RevisionDiff(props: {
  profileId: string;
  revision: ValuesProfileRevision;
}) {
  const { profileId, revision } = props;
  const api = useApi(deploymentsApiRef);
  const before = useAsync(
    async () =>
      revision.revision > 1
        ? api.getProfileRevision(profileId, revision.revision - 1)
        : undefined,
    [api, profileId, revision.revision],
  );
  if (before.loading) return <Progress />;
  if (before.error) {
    return (
      <Alert severity="warning">
        Could not read revision {revision.revision - 1}:{' '}
        {errorMessage(before.error)}
      </Alert>
    );
  }
  const diff = diffValues(
    before.value ? masked(before.value) : {},
    masked(revision),
    before.value ? `revision ${before.value.revision}` : 'chart defaults',
    `revision ${revision.revision}`,
  );
  return diff ? (
    <UnifiedDiff diff={diff} data-testid="revision-diff" />
  ) : (
    <Typography variant="body2" color="textSecondary">
      No change in the values (the name or description may have changed).
    </Typography>
  );
}

/** Props of {@link ProfileRevisionsDialog}. */
export interface ProfileRevisionsDialogProps {
  profile?: ValuesProfile;
  onClose: () => void;
}

/** A profile's revisions, newest first, each with its change against the one before. */
export function ProfileRevisionsDialog(props: ProfileRevisionsDialogProps) {
  const { profile, onClose } = props;
  const api = useApi(deploymentsApiRef);
  const [shown, setShown] = useState<number | undefined>();
  const revisions = useAsync(async () => {
    if (!profile) return undefined;
    return (await api.listProfileRevisions(profile.id)).items;
  }, [api, profile]);
  const selected =
    revisions.value?.find(r => r.revision === shown) ?? revisions.value?.[0];
  // A profile follows its chart across versions: each revision names its own.
  const charts = useAsync(() => api.listCharts({ limit: 500 }), [api]);
  const chartLabel = (chartId: string) => {
    const chart = charts.value?.items.find(c => c.id === chartId);
    return chart ? `${chart.name} ${chart.version}` : chartId;
  };

  const columns: TableColumn<ValuesProfileRevision>[] = [
    { title: 'Revision', field: 'revision', width: '80px' },
    { title: 'Chart', render: r => chartLabel(r.chartId) },
    {
      title: 'Written',
      render: r => (
        <>
          <Typography variant="body2">{formatTime(r.createdAt)}</Typography>
          <Typography variant="caption" color="textSecondary">
            {r.createdBy}
          </Typography>
        </>
      ),
    },
    {
      title: 'Values hash',
      render: r => (
        <code style={{ fontSize: 12 }}>{shortDigest(r.valuesHash)}</code>
      ),
    },
    {
      title: 'Secrets',
      render: r => (r.secretPaths.length ? r.secretPaths.join(', ') : '—'),
    },
    {
      title: '',
      render: r => (
        <Button
          size="small"
          color="primary"
          aria-label={`Changes in revision ${r.revision}`}
          onClick={() => setShown(r.revision)}
        >
          Changes
        </Button>
      ),
    },
  ];

  return (
    <Dialog
      open={profile !== undefined}
      onClose={onClose}
      maxWidth="md"
      fullWidth
    >
      <DialogTitle>Revisions of {profile?.name}</DialogTitle>
      <DialogContent dividers>
        {revisions.loading && <Progress />}
        {revisions.error && (
          <Alert severity="error">
            Could not list the revisions: {errorMessage(revisions.error)}
          </Alert>
        )}
        {revisions.value && profile && (
          <>
            <Table<ValuesProfileRevision>
              columns={columns}
              data={revisions.value}
              options={{
                paging: revisions.value.length > 10,
                pageSize: 10,
                search: false,
                toolbar: false,
                padding: 'dense',
              }}
            />
            {selected && (
              <Box mt={2}>
                <Typography variant="subtitle2" gutterBottom>
                  Revision {selected.revision} against{' '}
                  {selected.revision > 1
                    ? `revision ${selected.revision - 1}`
                    : 'the chart defaults'}
                </Typography>
                <RevisionDiff
                  key={selected.revision}
                  profileId={profile.id}
                  revision={selected}
                />
              </Box>
            )}
          </>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
