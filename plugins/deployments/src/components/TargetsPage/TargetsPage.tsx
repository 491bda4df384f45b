import {
  ContentHeader,
  EmptyState,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  deploymentsTargetCreatePermission,
  deploymentsTargetDeletePermission,
  deploymentsTargetTestPermission,
  deploymentsTargetUpdatePermission,
  Target,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import DeleteIcon from '@material-ui/icons/Delete';
import EditIcon from '@material-ui/icons/Edit';
import VpnKeyIcon from '@material-ui/icons/VpnKey';
import { useCallback, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  ConfirmDialog,
  errorMessage,
  notifyDeploymentsChanged,
  PermissionButton,
  PermissionIconButton,
  useDeploymentsChanged,
} from '../shared';
import { ConnectionTestDialog } from './ConnectionTestDialog';
import { CredentialsDialog } from './CredentialsDialog';
import { TargetDialog } from './TargetDialog';

const AUTH_LABEL = {
  kubeconfig: 'kubeconfig',
  token: 'token',
  inCluster: 'in-cluster',
} as const;

type Handlers = {
  edit: (target: Target) => void;
  credentials: (target: Target) => void;
  test: (target: Target) => void;
  remove: (target: Target) => void;
};

function TargetActions(props: { target: Target; handlers: Handlers }) {
  const { target, handlers } = props;
  const noCredentials =
    target.authKind !== 'inCluster' && !target.credentials.set
      ? 'The target has no credentials yet'
      : undefined;
  return (
    <Box display="flex" alignItems="center" flexWrap="nowrap">
      <PermissionButton
        size="small"
        color="primary"
        permission={deploymentsTargetTestPermission}
        resourceRef={target.name}
        disabledReason={noCredentials}
        onClick={() => handlers.test(target)}
        aria-label={`Test connection of ${target.name}`}
      >
        Test
      </PermissionButton>
      <PermissionIconButton
        label={`Edit ${target.name}`}
        icon={<EditIcon fontSize="small" />}
        permission={deploymentsTargetUpdatePermission}
        resourceRef={target.name}
        onClick={() => handlers.edit(target)}
      />
      <PermissionIconButton
        label={`Replace credentials of ${target.name}`}
        icon={<VpnKeyIcon fontSize="small" />}
        permission={deploymentsTargetUpdatePermission}
        resourceRef={target.name}
        onClick={() => handlers.credentials(target)}
      />
      <PermissionIconButton
        label={`Delete ${target.name}`}
        icon={<DeleteIcon fontSize="small" />}
        color="secondary"
        permission={deploymentsTargetDeletePermission}
        resourceRef={target.name}
        onClick={() => handlers.remove(target)}
      />
    </Box>
  );
}

function columns(handlers: Handlers): TableColumn<Target>[] {
  return [
    {
      title: 'Name',
      field: 'name',
      highlight: true,
      render: target => (
        <>
          <Box display="flex" alignItems="center" style={{ gap: 8 }}>
            <Typography variant="body2" style={{ fontWeight: 'bold' }}>
              {target.name}
            </Typography>
            {target.production && (
              <Chip
                size="small"
                color="secondary"
                label="Production"
                data-testid="production-chip"
              />
            )}
          </Box>
          {(target.requireApproval || target.changeWindows) && (
            <Typography variant="caption" color="textSecondary" component="p">
              {[
                target.requireApproval && 'approval required',
                target.changeWindows && 'change windows',
              ]
                .filter(Boolean)
                .join(' · ')}
            </Typography>
          )}
          {target.displayName !== target.name && (
            <Typography variant="caption" color="textSecondary">
              {target.displayName}
            </Typography>
          )}
        </>
      ),
    },
    { title: 'API server', field: 'apiServerUrl' },
    {
      title: 'Auth',
      field: 'authKind',
      render: target => AUTH_LABEL[target.authKind],
    },
    {
      title: 'Credentials',
      render: target => {
        if (target.authKind === 'inCluster') return 'read from the pod';
        if (!target.credentials.set) return 'not set';
        return (
          <code style={{ fontSize: 12 }}>
            {target.credentials.fingerprint ?? 'set'}
          </code>
        );
      },
    },
    {
      title: 'Allowed namespaces',
      render: target =>
        target.allowedNamespaces.length
          ? target.allowedNamespaces.join(', ')
          : 'none (nothing allowed)',
    },
    { title: 'Owner', field: 'owner', emptyValue: '—' },
    {
      title: 'Actions',
      sorting: false,
      render: target => <TargetActions target={target} handlers={handlers} />,
    },
  ];
}

/** The targets tab: clusters with encrypted credentials and allowlists. */
export function TargetsPage() {
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => api.listTargets({ limit: 500 }),
    [api],
  );
  useDeploymentsChanged(retry);

  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Target | undefined>();
  const [replacing, setReplacing] = useState<Target | undefined>();
  const [testing, setTesting] = useState<string | undefined>();
  const [deleting, setDeleting] = useState<Target | undefined>();
  const [busy, setBusy] = useState(false);

  const changed = (message: string) => {
    alertApi.post({ message, severity: 'success', display: 'transient' });
    notifyDeploymentsChanged();
  };
  const test = useCallback(
    (name: string) => api.testTargetConnection(name),
    [api],
  );
  const handlers: Handlers = {
    edit: setEditing,
    credentials: setReplacing,
    test: target => setTesting(target.name),
    remove: setDeleting,
  };

  const remove = async () => {
    if (!deleting) return;
    const name = deleting.name;
    setBusy(true);
    try {
      await api.deleteTarget(name);
      changed(`Target ${name} deleted.`);
    } catch (e) {
      alertApi.post({
        message: `Could not delete ${name}: ${errorMessage(e)}`,
        severity: 'error',
      });
    } finally {
      setBusy(false);
      setDeleting(undefined);
    }
  };

  const registerButton = (
    <PermissionButton
      permission={deploymentsTargetCreatePermission}
      variant="contained"
      color="primary"
      onClick={() => setCreating(true)}
    >
      Register target
    </PermissionButton>
  );

  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not list targets. Check that the deployments backend is running and that you may read targets, then reload."
        error={error}
      />
    );
  } else if (!loading && value && value.totalCount === 0) {
    body = (
      <EmptyState
        missing="data"
        title="No targets yet"
        description="A target is a Kubernetes cluster with encrypted credentials and a namespace allowlist that every rendered manifest must respect. The keyring must be unlocked to store credentials."
        action={registerButton}
      />
    );
  } else {
    body = (
      <Table<Target>
        title={`Targets (${value?.totalCount ?? 0})`}
        isLoading={loading && !value}
        columns={columns(handlers)}
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
        title="Targets"
        description="Clusters releases deploy to. Credentials are stored encrypted and shown only as a fingerprint."
      >
        {registerButton}
      </ContentHeader>
      {body}

      <TargetDialog
        open={creating || editing !== undefined}
        target={editing}
        onCreate={async request => {
          await api.createTarget(request);
          changed(`Target ${request.name} registered. Run a connection test.`);
        }}
        onUpdate={async (name, request) => {
          await api.updateTarget(name, request);
          changed(`Target ${name} updated.`);
        }}
        onClose={() => {
          setCreating(false);
          setEditing(undefined);
        }}
      />
      <CredentialsDialog
        target={replacing}
        onSubmit={async (name, credentials) => {
          await api.replaceTargetCredentials(name, credentials);
          changed(`Credentials of ${name} replaced.`);
        }}
        onClose={() => setReplacing(undefined)}
      />
      <ConnectionTestDialog
        targetName={testing}
        test={test}
        onClose={() => setTesting(undefined)}
      />
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete target ${deleting?.name}?`}
        confirmLabel="Delete"
        confirmationText={deleting?.name}
        busy={busy}
        onConfirm={remove}
        onClose={() => setDeleting(undefined)}
      >
        <Typography variant="body2">
          Its encrypted credentials are destroyed. A target that release plans
          still use cannot be deleted; nothing already deployed to the cluster
          is touched.
        </Typography>
      </ConfirmDialog>
    </>
  );
}
