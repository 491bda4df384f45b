import {
  EmptyState,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  Chart,
  deploymentsProfileCreatePermission,
  deploymentsProfileDeletePermission,
  deploymentsProfileUpdatePermission,
  ValuesProfile,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import DeleteIcon from '@material-ui/icons/Delete';
import EditIcon from '@material-ui/icons/Edit';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  ConfirmDialog,
  errorMessage,
  RelativeTime,
  notifyDeploymentsChanged,
  PermissionButton,
  PermissionIconButton,
  useDeploymentsChanged,
} from '../shared';
import { ProfileEditorDialog } from '../ValuesForm';
import { ProfileRevisionsDialog } from './ProfileRevisionsDialog';
import { ProfileUpgradeDialog } from './ProfileUpgradeDialog';

/** The profiles tab: values profiles per chart, with their revisions. */
export function ProfilesPage() {
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [chartId, setChartId] = useState('');
  const charts = useAsyncRetry(() => api.listCharts({ limit: 500 }), [api]);
  const profiles = useAsyncRetry(
    () => api.listProfiles({ chartId: chartId || undefined, limit: 500 }),
    [api, chartId],
  );
  useDeploymentsChanged(profiles.retry);
  const [editing, setEditing] = useState<
    { chart: Chart; profile?: ValuesProfile } | undefined
  >();
  const [revisionsOf, setRevisionsOf] = useState<ValuesProfile | undefined>();
  const [deleting, setDeleting] = useState<ValuesProfile | undefined>();
  const [upgrading, setUpgrading] = useState<ValuesProfile | undefined>();

  const chartsById = new Map(charts.value?.items.map(c => [c.id, c]) ?? []);
  const chosenChart = chartsById.get(chartId);
  /** Registered versions of a profile's chart other than its own. */
  const otherVersions = (chart: Chart | undefined) =>
    chart
      ? (charts.value?.items ?? []).filter(
          c => c.name === chart.name && c.id !== chart.id,
        )
      : [];

  const remove = async () => {
    const profile = deleting;
    setDeleting(undefined);
    if (!profile) return;
    try {
      await api.deleteProfile(profile.id);
      alertApi.post({
        message: `Values profile ${profile.name} deleted.`,
        severity: 'success',
        display: 'transient',
      });
      notifyDeploymentsChanged();
    } catch (e) {
      alertApi.post({
        message: `Could not delete ${profile.name}: ${errorMessage(e)}`,
        severity: 'error',
      });
    }
  };

  const columns: TableColumn<ValuesProfile>[] = [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      render: p => (
        <>
          <Typography variant="body2" style={{ fontWeight: 'bold' }}>
            {p.name}
          </Typography>
          {p.description && (
            <Typography variant="caption" color="textSecondary">
              {p.description}
            </Typography>
          )}
        </>
      ),
    },
    {
      title: 'Chart',
      render: p => {
        const chart = chartsById.get(p.chartId);
        return chart ? `${chart.name} ${chart.version}` : p.chartId;
      },
    },
    {
      title: 'Owner',
      field: 'owner',
      render: p => p.owner ?? '—',
    },
    { title: 'Revision', field: 'revision', width: '80px' },
    {
      title: 'Secrets',
      render: p =>
        p.secretPaths.length
          ? p.secretPaths.map(path => `${path}: set`).join(', ')
          : '—',
    },
    {
      title: 'Updated',
      render: p => (
        <>
          <Typography variant="body2">
            <RelativeTime at={p.updatedAt} />
          </Typography>
          <Typography variant="caption" color="textSecondary">
            {p.updatedBy}
          </Typography>
        </>
      ),
    },
    {
      title: 'Actions',
      sorting: false,
      render: p => {
        const chart = chartsById.get(p.chartId);
        return (
          <Box display="flex" style={{ gap: 4 }}>
            <PermissionIconButton
              label={`Edit ${p.name}`}
              icon={<EditIcon fontSize="small" />}
              permission={deploymentsProfileUpdatePermission}
              resourceRef={p.id}
              disabledReason={
                chart
                  ? undefined
                  : 'The chart of this profile is not registered any more'
              }
              onClick={() => chart && setEditing({ chart, profile: p })}
            />
            <Button
              size="small"
              color="primary"
              aria-label={`Revisions of ${p.name}`}
              onClick={() => setRevisionsOf(p)}
            >
              Revisions
            </Button>
            <PermissionButton
              size="small"
              color="primary"
              aria-label={`Upgrade ${p.name} to another chart version`}
              permission={deploymentsProfileUpdatePermission}
              resourceRef={p.id}
              disabledReason={
                otherVersions(chart).length > 0
                  ? undefined
                  : 'No other version of this chart is registered'
              }
              onClick={() => setUpgrading(p)}
            >
              Upgrade…
            </PermissionButton>
            <PermissionIconButton
              label={`Delete ${p.name}`}
              icon={<DeleteIcon fontSize="small" />}
              color="secondary"
              permission={deploymentsProfileDeletePermission}
              resourceRef={p.id}
              onClick={() => setDeleting(p)}
            />
          </Box>
        );
      },
    },
  ];

  const newButton = (
    <PermissionButton
      permission={deploymentsProfileCreatePermission}
      variant="contained"
      color="primary"
      disabledReason={
        chosenChart ? undefined : 'Choose the chart the profile is for first'
      }
      onClick={() => chosenChart && setEditing({ chart: chosenChart })}
    >
      New profile
    </PermissionButton>
  );

  const error = charts.error ?? profiles.error;
  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not list values profiles. Check that the deployments backend is running and that you may read profiles, then reload."
        error={error}
      />
    );
  } else if (charts.value && charts.value.totalCount === 0) {
    body = (
      <EmptyState
        missing="data"
        title="No charts registered"
        description="A values profile belongs to one chart version. Register a chart on the Charts tab first."
      />
    );
  } else if (profiles.value && profiles.value.totalCount === 0) {
    body = (
      <EmptyState
        missing="data"
        title={
          chosenChart
            ? `No values profiles for ${chosenChart.name} ${chosenChart.version} yet`
            : 'No values profiles yet'
        }
        description="A values profile is a named, versioned set of values for a chart, filled in through a form generated from the chart's values.schema.json. Release plans pin one of its revisions. Choose a chart, then create one."
        action={newButton}
      />
    );
  } else {
    body = (
      <Table<ValuesProfile>
        title={`Values profiles (${profiles.value?.totalCount ?? 0})`}
        isLoading={profiles.loading && !profiles.value}
        columns={columns}
        data={profiles.value?.items ?? []}
        options={{
          paging: (profiles.value?.totalCount ?? 0) > 20,
          pageSize: 20,
          search: true,
          padding: 'dense',
        }}
      />
    );
  }

  return (
    <>
      <Box display="flex" alignItems="center" style={{ gap: 16 }} mb={2}>
        <TextField
          id="deployments-profiles-chart"
          label="Chart"
          select
          SelectProps={{ native: true }}
          InputLabelProps={{ shrink: true }}
          value={chartId}
          onChange={e => setChartId(e.target.value)}
          variant="outlined"
          margin="dense"
          style={{ minWidth: 280 }}
          inputProps={{ 'data-testid': 'profiles-chart' }}
        >
          <option value="">All charts</option>
          {charts.value?.items.map(c => (
            <option key={c.id} value={c.id}>
              {c.name} {c.version}
            </option>
          ))}
        </TextField>
        <Box flexGrow={1} />
        {newButton}
      </Box>
      {body}
      {editing && (
        <ProfileEditorDialog
          open
          chart={editing.chart}
          profile={editing.profile}
          onClose={() => setEditing(undefined)}
          onSaved={saved => {
            setEditing(undefined);
            alertApi.post({
              message: `Values profile ${saved.name} saved (revision ${saved.revision}).`,
              severity: 'success',
              display: 'transient',
            });
            notifyDeploymentsChanged();
          }}
        />
      )}
      <ProfileRevisionsDialog
        profile={revisionsOf}
        onClose={() => setRevisionsOf(undefined)}
      />
      {upgrading && chartsById.get(upgrading.chartId) && (
        <ProfileUpgradeDialog
          profile={upgrading}
          chart={chartsById.get(upgrading.chartId)!}
          versions={otherVersions(chartsById.get(upgrading.chartId))}
          onClose={() => setUpgrading(undefined)}
          onUpgraded={upgraded => {
            setUpgrading(undefined);
            alertApi.post({
              message: `Values profile ${upgraded.name} upgraded (revision ${upgraded.revision}).`,
              severity: 'success',
              display: 'transient',
            });
            notifyDeploymentsChanged();
          }}
        />
      )}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete values profile ${deleting?.name}?`}
        confirmLabel="Delete"
        onConfirm={remove}
        onClose={() => setDeleting(undefined)}
      >
        <Typography variant="body2">
          The profile and all its revisions are removed, secrets included. A
          profile that release plans use cannot be deleted.
        </Typography>
      </ConfirmDialog>
    </>
  );
}
