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
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { formatTime, PermissionButton } from '../shared';
import { rollbackBlockedReason } from './gates';
import { RevisionDiffDialog } from './RevisionDiffDialog';

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
  // Which two revisions to compare: by default the newest against the one before.
  const [from, setFrom] = useState<number | undefined>();
  const [to, setTo] = useState<number | undefined>();
  const [comparing, setComparing] = useState<[number, number] | undefined>();
  const revisions = history?.map(entry => entry.revision) ?? [];
  const fromRevision = from ?? revisions[1];
  const toRevision = to ?? revisions[0];
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
      title: 'Values',
      render: entry => {
        if (entry.profileRevision !== undefined) {
          return `profile revision ${entry.profileRevision}${
            entry.rollbackOf === undefined
              ? ''
              : ` (rollback to ${entry.rollbackOf})`
          }`;
        }
        return entry.rollbackOf === undefined
          ? '—'
          : `rollback to ${entry.rollbackOf}`;
      },
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
    const revisionSelect = (
      label: string,
      value: number | undefined,
      onChange: (revision: number) => void,
    ) => (
      <TextField
        label={label}
        select
        SelectProps={{ native: true }}
        InputLabelProps={{ shrink: true }}
        value={value ?? ''}
        onChange={e => onChange(Number(e.target.value))}
        variant="outlined"
        margin="dense"
        inputProps={{ 'aria-label': label }}
      >
        {revisions.map(revision => (
          <option key={revision} value={revision}>
            {revision}
          </option>
        ))}
      </TextField>
    );
    body = (
      <>
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
        {revisions.length > 1 && (
          <Box display="flex" alignItems="center" style={{ gap: 16 }} mt={2}>
            <Typography variant="body2">Compare values and objects:</Typography>
            {revisionSelect('From revision', fromRevision, setFrom)}
            {revisionSelect('To revision', toRevision, setTo)}
            <Button
              variant="outlined"
              color="primary"
              disabled={
                fromRevision === undefined ||
                toRevision === undefined ||
                fromRevision === toRevision
              }
              onClick={() =>
                fromRevision !== undefined &&
                toRevision !== undefined &&
                setComparing([fromRevision, toRevision])
              }
            >
              Compare
            </Button>
          </Box>
        )}
        {comparing && (
          <RevisionDiffDialog
            planId={plan.id}
            fromRevision={comparing[0]}
            toRevision={comparing[1]}
            onClose={() => setComparing(undefined)}
          />
        )}
      </>
    );
  }
  return (
    <InfoCard title="Helm history">
      <div data-testid="plan-history">{body}</div>
    </InfoCard>
  );
}
