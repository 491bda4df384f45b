import { Table, TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ResponseErrorPanel } from '@backstage/core-components';
import { Target } from '@kubedeploy/plugin-deployments-common';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';

const columns: TableColumn<Target>[] = [
  { title: 'Name', field: 'name', highlight: true },
  { title: 'Display name', field: 'displayName' },
  { title: 'API server', field: 'apiServerUrl' },
  { title: 'Auth', field: 'authKind' },
  {
    title: 'Namespaces',
    render: target =>
      target.allowedNamespaces.length
        ? target.allowedNamespaces.join(', ')
        : 'none (nothing allowed)',
  },
  {
    title: 'Credentials',
    render: target =>
      target.credentials.set
        ? target.credentials.fingerprint ?? 'set'
        : 'not set',
  },
  { title: 'Owner', field: 'owner' },
];

/** The targets the user may see; credentials appear only as a fingerprint. */
export function TargetsTable() {
  const api = useApi(deploymentsApiRef);
  const { value, loading, error } = useAsync(
    () => api.listTargets({ limit: 500 }),
    [api],
  );

  if (error)
    return <ResponseErrorPanel title="Could not list targets" error={error} />;

  return (
    <Table<Target>
      title={`Targets (${value?.totalCount ?? 0})`}
      isLoading={loading}
      columns={columns}
      data={value?.items ?? []}
      options={{
        paging: (value?.totalCount ?? 0) > 20,
        pageSize: 20,
        search: true,
      }}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          No targets yet. A target is a cluster with encrypted credentials and a
          namespace allowlist; register one with{' '}
          <code>POST /api/deployments/targets</code>.
        </Typography>
      }
    />
  );
}
