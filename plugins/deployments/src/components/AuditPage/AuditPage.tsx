import {
  ContentHeader,
  EmptyState,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusWarning,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { FormEvent, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import {
  deploymentsApiRef,
  DeploymentsAuditEntry,
  DeploymentsAuditQuery,
} from '../../api/DeploymentsApi';
import { RelativeTime } from '../shared';
import { AuditDetails, describeAuditEvent, auditSubject } from './auditEvents';

const PAGE_SIZE = 50;

/** Event ids the backend records today; the filter accepts any. */
const KNOWN_EVENTS = [
  'keyring-bootstrap',
  'keyring-unlock',
  'keyring-seal',
  'keyring-self-test',
  'keyring-backup-export',
  'keyring-backup-verify',
  'keyring-restore',
  'keyring-rotate',
  'target-create',
  'target-update',
  'target-credentials-replace',
  'target-delete',
  'target-test-connection',
  'chart-register',
  'chart-delete',
  'registry-credentials-put',
  'registry-credentials-delete',
  'profile-create',
  'profile-update',
  'profile-delete',
  'plan-create',
  'plan-update',
  'plan-delete',
  'plan-dry-run',
  'plan-preflight',
  'plan-apply',
  'plan-rollback',
  'plan-uninstall',
  'plan-dry-run-finished',
  'plan-preflight-finished',
  'plan-apply-finished',
  'plan-rollback-finished',
  'plan-uninstall-finished',
  'plan-logs',
  'operation-cancel',
];

type Filters = Pick<
  DeploymentsAuditQuery,
  'actor' | 'eventId' | 'subject' | 'outcome'
>;

const EMPTY_FILTERS: Filters = {};

function Outcome(props: { outcome: DeploymentsAuditEntry['outcome'] }) {
  switch (props.outcome) {
    case 'succeeded':
      return <StatusOK>succeeded</StatusOK>;
    case 'denied':
      return <StatusWarning>denied</StatusWarning>;
    default:
      return <StatusError>failed</StatusError>;
  }
}

const columns: TableColumn<DeploymentsAuditEntry>[] = [
  {
    title: 'When',
    field: 'occurredAt',
    render: entry => <RelativeTime at={entry.occurredAt} />,
  },
  { title: 'Actor', field: 'actor' },
  {
    title: 'Event',
    field: 'eventId',
    render: entry => (
      <>
        <Typography variant="body2">
          {describeAuditEvent(entry.eventId)}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {entry.eventId}
        </Typography>
      </>
    ),
  },
  {
    title: 'Subject',
    field: 'subject',
    render: entry => auditSubject(entry),
  },
  {
    title: 'Outcome',
    field: 'outcome',
    render: entry => <Outcome outcome={entry.outcome} />,
  },
  {
    title: 'Details',
    sorting: false,
    cellStyle: { minWidth: 280 },
    render: entry => <AuditDetails entry={entry} />,
  },
];

/**
 * The audit trail tab: who did what to which subject, with what outcome;
 * denials included. Newest first, paged backwards by entry id.
 */
export function AuditPage() {
  const api = useApi(deploymentsApiRef);
  const [draft, setDraft] = useState<Filters>(EMPTY_FILTERS);
  const [filters, setFilters] = useState<Filters>(EMPTY_FILTERS);
  // The `before` cursor of each page visited; the last one is shown.
  const [cursors, setCursors] = useState<Array<number | undefined>>([
    undefined,
  ]);
  const before = cursors[cursors.length - 1];

  const { value, loading, error } = useAsync(async () => {
    // One extra entry tells whether an older page exists.
    const { items } = await api.listAuditEntries({
      ...filters,
      before,
      limit: PAGE_SIZE + 1,
    });
    return {
      items: items.slice(0, PAGE_SIZE),
      hasOlder: items.length > PAGE_SIZE,
    };
  }, [api, filters, before]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(trimmed(draft));
    setCursors([undefined]);
  };
  const reset = () => {
    setDraft(EMPTY_FILTERS);
    setFilters(EMPTY_FILTERS);
    setCursors([undefined]);
  };
  const filtered = Object.values(filters).some(Boolean);

  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not read the audit trail. You need the deployments.audit.read permission; check that the backend is running, then reload."
        error={error}
      />
    );
  } else if (!loading && value && value.items.length === 0 && !before) {
    body = (
      <EmptyState
        missing="data"
        title={
          filtered ? 'No entries match these filters' : 'No audit entries yet'
        }
        description={
          filtered
            ? 'Filters match exact values: an actor is an entity ref like user:default/guest; a subject is a target name, chart id or similar. Clear the filters to see everything.'
            : 'Every change to the keyring, targets, charts, profiles and plans, every operation, and every denied attempt, is recorded here.'
        }
        action={
          filtered ? (
            <Button variant="outlined" onClick={reset}>
              Clear filters
            </Button>
          ) : undefined
        }
      />
    );
  } else {
    body = (
      <>
        <Table<DeploymentsAuditEntry>
          title="Audit trail"
          isLoading={loading}
          columns={columns}
          data={value?.items ?? []}
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
            disabled={!value?.hasOlder || loading}
            onClick={() => {
              const oldest = value?.items[value.items.length - 1];
              if (oldest) setCursors(c => [...c, oldest.id]);
            }}
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
        title="Audit trail"
        description="Every mutation and every denied request, newest first. Never holds secret values."
      />
      <form onSubmit={apply}>
        <Box
          display="flex"
          flexWrap="wrap"
          alignItems="center"
          mb={2}
          style={{ gap: 16 }}
        >
          <TextField
            id="deployments-actor"
            label="Actor"
            placeholder="user:default/guest"
            value={draft.actor ?? ''}
            onChange={e => setDraft({ ...draft, actor: e.target.value })}
          />
          <TextField
            id="deployments-event"
            label="Event"
            placeholder="target-create"
            value={draft.eventId ?? ''}
            onChange={e => setDraft({ ...draft, eventId: e.target.value })}
            inputProps={{ list: 'deployments-audit-events' }}
          />
          <datalist id="deployments-audit-events">
            {KNOWN_EVENTS.map(id => (
              <option key={id} value={id} />
            ))}
          </datalist>
          <TextField
            id="deployments-subject"
            label="Subject"
            placeholder="local-team-a"
            value={draft.subject ?? ''}
            onChange={e => setDraft({ ...draft, subject: e.target.value })}
          />
          <TextField
            select
            id="deployments-outcome"
            label="Outcome"
            value={draft.outcome ?? ''}
            onChange={e =>
              setDraft({
                ...draft,
                outcome: (e.target.value || undefined) as Filters['outcome'],
              })
            }
            style={{ minWidth: 140 }}
          >
            <MenuItem value="">any</MenuItem>
            <MenuItem value="succeeded">succeeded</MenuItem>
            <MenuItem value="failed">failed</MenuItem>
            <MenuItem value="denied">denied</MenuItem>
          </TextField>
          <Button type="submit" variant="contained" color="primary">
            Apply filters
          </Button>
          <Button onClick={reset}>Clear</Button>
        </Box>
      </form>
      {body}
    </>
  );
}

function trimmed(filters: Filters): Filters {
  return {
    actor: filters.actor?.trim() || undefined,
    eventId: filters.eventId?.trim() || undefined,
    subject: filters.subject?.trim() || undefined,
    outcome: filters.outcome,
  };
}
