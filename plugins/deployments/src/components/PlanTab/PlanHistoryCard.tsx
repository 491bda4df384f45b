import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import {
  deploymentsPlanRollbackPermission,
  ReleaseHistoryEntry,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Typography from '@material-ui/core/Typography';
import { formatTime, PermissionButton } from '../shared';
import { rollbackBlockedReason } from './gates';

/** Props of {@link PlanHistoryCard}. */
export interface PlanHistoryCardProps {
  plan: ReleasePlan;
  history?: ReleaseHistoryEntry[];
  error?: Error;
  onRollback: (entry: ReleaseHistoryEntry) => void;
  /** Why a rollback to `entry` waits for change control (e.g. an approval), or undefined. */
  rollbackWaitsReason?: (entry: ReleaseHistoryEntry) => string | undefined;
}

/** Helm's revisions of the release, newest first, each with a Rollback button. */
export function PlanHistoryCard(props: PlanHistoryCardProps) {
  const { plan, history, error, onRollback, rollbackWaitsReason } = props;
  const columns: TableColumn<ReleaseHistoryEntry>[] = [
    { title: 'Revision', field: 'revision', width: '80px' },
    {
      title: 'Status',
      render: entry => (
        <>
          <Typography variant="body2">{entry.status}</Typography>
          <Typography variant="caption" color="textSecondary">
            {entry.description}
          </Typography>
        </>
      ),
    },
    {
      title: 'Chart',
      render: entry =>
        `${entry.chart}${entry.appVersion ? ` (app ${entry.appVersion})` : ''}`,
    },
    {
      title: 'Deployed',
      render: entry => (
        <>
          <Typography variant="body2">{formatTime(entry.updated)}</Typography>
          <Typography variant="caption" color="textSecondary">
            {entry.actor
              ? `${entry.actor}, plan revision ${entry.planRevision ?? '—'}`
              : 'outside the portal'}
          </Typography>
        </>
      ),
    },
    {
      title: 'Actions',
      render: entry => (
        <PermissionButton
          permission={deploymentsPlanRollbackPermission}
          resourceRef={plan.id}
          size="small"
          color="secondary"
          aria-label={`Roll back to revision ${entry.revision}`}
          disabledReason={
            rollbackBlockedReason(plan, entry, history ?? []) ??
            rollbackWaitsReason?.(entry)
          }
          onClick={() => onRollback(entry)}
        >
          Rollback
        </PermissionButton>
      ),
    },
  ];

  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not read the Helm history. Check that the target is reachable, then refresh."
        error={error}
      />
    );
  } else if (!history) {
    body = <Progress />;
  } else if (history.length === 0) {
    body = (
      <Typography variant="body2" color="textSecondary">
        No Helm revisions yet: the release has never been applied.
      </Typography>
    );
  } else {
    body = (
      <Table<ReleaseHistoryEntry>
        columns={columns}
        data={history}
        options={{
          paging: history.length > 10,
          pageSize: 10,
          search: false,
          toolbar: false,
          padding: 'dense',
        }}
      />
    );
  }
  return (
    <InfoCard title="Helm history">
      <div data-testid="plan-history">{body}</div>
    </InfoCard>
  );
}
