import {
  ContentHeader,
  CopyTextButton,
  EmptyState,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  Chart,
  deploymentsChartDeletePermission,
  deploymentsChartRegisterPermission,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import DeleteIcon from '@material-ui/icons/Delete';
import { useCallback, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  ConfirmDialog,
  errorMessage,
  RelativeTime,
  notifyDeploymentsChanged,
  PermissionButton,
  PermissionIconButton,
  shortDigest,
  useDeploymentsChanged,
} from '../shared';
import { ChartDetailDialog } from './ChartDetailDialog';
import { RegisterChartDialog } from './RegisterChartDialog';

function columns(
  show: (chart: Chart) => void,
  remove: (chart: Chart) => void,
): TableColumn<Chart>[] {
  return [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      render: chart => (
        <>
          <Typography variant="body2" style={{ fontWeight: 'bold' }}>
            {chart.name}
          </Typography>
          <Typography variant="caption" color="textSecondary">
            {chart.reference}
          </Typography>
        </>
      ),
    },
    { title: 'Version', field: 'version' },
    {
      title: 'Digest',
      field: 'chartDigest',
      render: chart => (
        <Box display="flex" alignItems="center">
          <code style={{ fontSize: 12 }} title={chart.chartDigest}>
            {shortDigest(chart.chartDigest)}
          </code>
          <CopyTextButton
            text={chart.chartDigest}
            tooltipText="Digest copied"
            variant="tertiary"
            aria-label={`Copy the digest of ${chart.name} ${chart.version}`}
          />
        </Box>
      ),
    },
    {
      title: 'Schema',
      field: 'hasValuesSchema',
      render: chart => (chart.hasValuesSchema ? 'yes' : 'no'),
    },
    {
      title: 'Registered',
      field: 'registeredAt',
      render: chart => (
        <>
          <Typography variant="body2">
            <RelativeTime at={chart.registeredAt} />
          </Typography>
          <Typography variant="caption" color="textSecondary">
            {chart.registeredBy}
          </Typography>
        </>
      ),
    },
    {
      title: 'Actions',
      sorting: false,
      render: chart => (
        <Box display="flex" style={{ gap: 4 }}>
          <Button
            size="small"
            color="primary"
            onClick={() => show(chart)}
            aria-label={`Details of ${chart.name} ${chart.version}`}
          >
            Details
          </Button>
          <PermissionIconButton
            label={`Delete ${chart.name} ${chart.version}`}
            icon={<DeleteIcon fontSize="small" />}
            color="secondary"
            permission={deploymentsChartDeletePermission}
            onClick={() => remove(chart)}
          />
        </Box>
      ),
    },
  ];
}

/** The charts tab: registered chart versions, pinned by digest. */
export function ChartsPage() {
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.listCharts({ limit: 500 }),
    [api],
  );
  useDeploymentsChanged(retry);
  const [registering, setRegistering] = useState(false);
  const [shown, setShown] = useState<Chart | undefined>();
  const [deleting, setDeleting] = useState<Chart | undefined>();
  const [busy, setBusy] = useState(false);

  const listVersions = useCallback(
    (reference: string) => api.listChartVersions(reference),
    [api],
  );

  const remove = async () => {
    if (!deleting) return;
    const { id, name, version } = deleting;
    setBusy(true);
    try {
      await api.deleteChart(id);
      alertApi.post({
        message: `Chart ${name} ${version} deleted.`,
        severity: 'success',
        display: 'transient',
      });
      notifyDeploymentsChanged();
    } catch (e) {
      alertApi.post({
        message: `Could not delete ${name} ${version}: ${errorMessage(e)}`,
        severity: 'error',
      });
    } finally {
      setBusy(false);
      setDeleting(undefined);
    }
  };

  const registerButton = (
    <PermissionButton
      permission={deploymentsChartRegisterPermission}
      variant="contained"
      color="primary"
      onClick={() => setRegistering(true)}
    >
      Register chart
    </PermissionButton>
  );

  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not list charts. Check that the deployments backend is running and that you may read charts, then reload."
        error={error}
      />
    );
  } else if (!loading && value && value.totalCount === 0) {
    body = (
      <EmptyState
        missing="data"
        title="No charts registered"
        description="Register a Helm chart version from an OCI registry. Its digest is pinned at registration, and its values.schema.json becomes the form for values profiles."
        action={registerButton}
      />
    );
  } else {
    body = (
      <Table<Chart>
        title={`Charts (${value?.totalCount ?? 0})`}
        isLoading={loading && !value}
        columns={columns(setShown, setDeleting)}
        data={value?.items ?? []}
        options={{
          paging: (value?.totalCount ?? 0) > 20,
          pageSize: 20,
          search: true,
          padding: 'dense',
        }}
      />
    );
  }

  return (
    <>
      <ContentHeader
        title="Charts"
        description="Helm chart versions from OCI registries, each pinned by the digest recorded when it was registered."
      >
        {registerButton}
      </ContentHeader>
      {body}
      <RegisterChartDialog
        open={registering}
        listVersions={listVersions}
        onRegister={async request => {
          const result = await api.registerChart(request);
          alertApi.post({
            message: result.created
              ? `Registered ${result.chart.name} ${
                  result.chart.version
                } (${shortDigest(result.chart.chartDigest)}).`
              : `${result.chart.name} ${result.chart.version} was already registered with the same digest.`,
            severity: 'success',
            display: 'transient',
          });
          notifyDeploymentsChanged();
          return result;
        }}
        onClose={() => setRegistering(false)}
      />
      <ChartDetailDialog chart={shown} onClose={() => setShown(undefined)} />
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete ${deleting?.name} ${deleting?.version}?`}
        confirmLabel="Delete"
        busy={busy}
        onConfirm={remove}
        onClose={() => setDeleting(undefined)}
      >
        <Typography variant="body2">
          The stored archive and metadata are removed. A version that release
          plans or values profiles still use cannot be deleted. Registering it
          again later pins whatever digest the registry serves then.
        </Typography>
      </ConfirmDialog>
    </>
  );
}
