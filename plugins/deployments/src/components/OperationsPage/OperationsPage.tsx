import {
  ContentHeader,
  EmptyState,
  Link,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { Operation } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Drawer from '@material-ui/core/Drawer';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useCallback, useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  deploymentsApiRef,
  OperationListQuery,
} from '../../api/DeploymentsApi';
import { OperationProgressCard } from '../PlanTab/OperationProgressCard';
import { OperationStatusChip } from '../PlanTab/PlanStatusChip';
import {
  OPERATION_KIND_LABELS,
  OPERATION_STATUS_LABELS,
  RelativeTime,
  useDeploymentsChanged,
  usePlanLink,
} from '../shared';

const PAGE_SIZE = 25;
/** While an operation on the page runs, the page is re-read this often. */
const RUNNING_REFRESH_MS = 5_000;

const STATUSES: Array<Operation['status']> = [
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
];
const KINDS: Array<Operation['kind']> = [
  'dry-run',
  'preflight',
  'apply',
  'rollback',
  'uninstall',
];

type Filters = Pick<OperationListQuery, 'status' | 'kind'>;

function formatDuration(operation: Operation): string {
  if (operation.durationMs === undefined) {
    return operation.status === 'running' ? 'running…' : '—';
  }
  return `${(operation.durationMs / 1000).toFixed(1)} s`;
}

const columns: TableColumn<Operation>[] = [
  {
    title: 'Started',
    field: 'createdAt',
    render: operation => <RelativeTime at={operation.createdAt} />,
  },
  {
    title: 'Operation',
    field: 'kind',
    render: operation =>
      OPERATION_KIND_LABELS[operation.kind] ?? operation.kind,
  },
  {
    title: 'Release',
    field: 'releaseName',
    render: operation => (
      <>
        <Typography variant="body2">
          <strong>{operation.releaseName}</strong>
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {operation.target}/{operation.namespace}
        </Typography>
      </>
    ),
  },
  {
    title: 'Component',
    field: 'entityRef',
    render: operation =>
      operation.entityRef ? (
        <EntityRefLink entityRef={operation.entityRef} />
      ) : (
        <Typography variant="caption" color="textSecondary">
          plan deleted
        </Typography>
      ),
  },
  { title: 'Actor', field: 'actor' },
  {
    title: 'Status',
    field: 'status',
    render: operation => <OperationStatusChip status={operation.status} />,
  },
  { title: 'Took', render: formatDuration },
];

/**
 * The operations tab: every dry-run, preflight, apply, rollback and
 * uninstall on the plans the user may read, newest first. A row opens the
 * operation with its progress lines, live while it runs (and cancellable).
 */
export function OperationsPage() {
  const api = useApi(deploymentsApiRef);
  const [filters, setFilters] = useState<Filters>({});
  // The cursor of each page visited; the last one is shown.
  const [cursors, setCursors] = useState<Array<string | undefined>>([
    undefined,
  ]);
  const [selected, setSelected] = useState<Operation | undefined>();
  const [version, setVersion] = useState(0);
  const planLink = usePlanLink();
  const reload = useCallback(() => setVersion(v => v + 1), []);
  useDeploymentsChanged(reload);
  const after = cursors[cursors.length - 1];

  const { value, loading, error } = useAsync(
    () => api.listOperations({ ...filters, after, limit: PAGE_SIZE }),
    [api, filters, after, version],
  );

  const anyRunning = value?.items.some(op => op.status === 'running');
  useEffect(() => {
    if (!anyRunning) return undefined;
    const timer = setInterval(reload, RUNNING_REFRESH_MS);
    return () => clearInterval(timer);
  }, [anyRunning, reload]);

  const filter = (change: Filters) => {
    setFilters(current => ({ ...current, ...change }));
    setCursors([undefined]);
  };
  const filtered = Boolean(filters.status || filters.kind);

  const filterBar = (
    <Box display="flex" style={{ gap: 16 }} mb={2}>
      <TextField
        select
        label="Status"
        SelectProps={{ displayEmpty: true }}
        InputLabelProps={{ shrink: true }}
        value={filters.status ?? ''}
        onChange={e =>
          filter({
            status: (e.target.value || undefined) as Filters['status'],
          })
        }
        style={{ minWidth: 160 }}
        inputProps={{ 'data-testid': 'operations-status-filter' }}
      >
        <MenuItem value="">Any status</MenuItem>
        {STATUSES.map(status => (
          <MenuItem key={status} value={status}>
            {OPERATION_STATUS_LABELS[status]}
          </MenuItem>
        ))}
      </TextField>
      <TextField
        select
        label="Operation"
        SelectProps={{ displayEmpty: true }}
        InputLabelProps={{ shrink: true }}
        value={filters.kind ?? ''}
        onChange={e =>
          filter({ kind: (e.target.value || undefined) as Filters['kind'] })
        }
        style={{ minWidth: 160 }}
        inputProps={{ 'data-testid': 'operations-kind-filter' }}
      >
        <MenuItem value="">Any operation</MenuItem>
        {KINDS.map(kind => (
          <MenuItem key={kind} value={kind}>
            {OPERATION_KIND_LABELS[kind]}
          </MenuItem>
        ))}
      </TextField>
    </Box>
  );

  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not list operations. Check that the deployments backend is running, then reload."
        error={error}
      />
    );
  } else if (!loading && value && value.items.length === 0 && !after) {
    body = (
      <EmptyState
        missing="data"
        title={
          filtered ? 'No operations match these filters' : 'No operations yet'
        }
        description={
          filtered
            ? 'Choose another status or operation, or any.'
            : "Dry-runs, preflights, applies, rollbacks and uninstalls appear here once someone runs them from a component's Plan tab. Only operations on plans you may read are shown."
        }
        action={
          filtered ? (
            <Button
              variant="outlined"
              onClick={() => filter({ status: undefined, kind: undefined })}
            >
              Clear filters
            </Button>
          ) : undefined
        }
      />
    );
  } else {
    body = (
      <>
        <Table<Operation>
          title="Operations"
          isLoading={loading && !value}
          columns={columns}
          data={value?.items ?? []}
          onRowClick={(_event, operation) => setSelected(operation)}
          options={{ paging: false, search: false, padding: 'dense' }}
        />
        <Box display="flex" justifyContent="flex-end" mt={1} style={{ gap: 8 }}>
          <Button
            disabled={cursors.length <= 1 || loading}
            onClick={() => setCursors(c => c.slice(0, -1))}
          >
            Newer
          </Button>
          <Button
            disabled={!value?.nextCursor || loading}
            onClick={() => setCursors(c => [...c, value?.nextCursor])}
          >
            Older
          </Button>
        </Box>
      </>
    );
  }

  return (
    <>
      <ContentHeader
        title="Operations"
        description="Every dry-run, preflight, apply, rollback and uninstall on the release plans you may read, newest first."
      />
      {filterBar}
      {body}
      {/* Beside the table, not below it: the details open where the eye is. */}
      <Drawer
        anchor="right"
        open={selected !== undefined}
        onClose={() => setSelected(undefined)}
        PaperProps={{ style: { width: 'min(760px, 100vw)' } }}
      >
        {selected && (
          <Box p={2} data-testid="operation-drawer">
            <Typography variant="h6">
              {OPERATION_KIND_LABELS[selected.kind] ?? selected.kind} of{' '}
              {selected.releaseName}
            </Typography>
            <Typography variant="body2" color="textSecondary" gutterBottom>
              {selected.target}/{selected.namespace} · by {selected.actor} ·
              started <RelativeTime at={selected.createdAt} />
              {planLink(selected.entityRef, selected.planId) && (
                <>
                  {' · '}
                  <Link to={planLink(selected.entityRef, selected.planId)!}>
                    Open the plan
                  </Link>
                </>
              )}
            </Typography>
            <OperationProgressCard
              key={selected.id}
              operationId={selected.id}
              planId={selected.planId}
              onFinished={reload}
              onDismiss={() => setSelected(undefined)}
            />
          </Box>
        )}
      </Drawer>
    </>
  );
}
