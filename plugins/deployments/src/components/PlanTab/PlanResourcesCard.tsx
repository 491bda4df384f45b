import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  PlanPod,
  PlanResourceEvent,
  PlanResourceObject,
  PlanResources,
} from '../../api/DeploymentsApi';
import { formatTime } from '../shared';
import { PassChip } from './PlanStatusChip';

function describeObject(object: PlanResourceObject): string {
  if (object.replicas) {
    const r = object.replicas;
    return `${r.ready}/${r.desired} ready, ${r.updated} updated, ${r.available} available`;
  }
  if (object.job) {
    const j = object.job;
    return `${j.succeeded} succeeded, ${j.active} active, ${j.failed} failed`;
  }
  if (object.service) {
    const s = object.service;
    return [s.type, s.clusterIP, ...(s.externalAddresses ?? [])]
      .filter(Boolean)
      .join(' · ');
  }
  if (object.persistentVolumeClaim) return object.persistentVolumeClaim.phase;
  return '';
}

function EventLines(props: { events: PlanResourceEvent[] | undefined }) {
  if (!props.events?.length) return null;
  return (
    <Box mt={0.5}>
      {props.events.slice(0, 3).map((event, index) => (
        <Typography
          key={index}
          variant="caption"
          component="p"
          color={event.type === 'Warning' ? 'error' : 'textSecondary'}
        >
          {event.reason}: {event.message}
          {event.count > 1 ? ` (×${event.count})` : ''}
        </Typography>
      ))}
    </Box>
  );
}

const objectColumns: TableColumn<PlanResourceObject>[] = [
  {
    title: 'Object',
    render: object => (
      <>
        <Typography variant="body2">
          <strong>{object.kind}</strong> {object.name}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {object.namespace ?? 'cluster-scoped'}
        </Typography>
      </>
    ),
  },
  {
    title: 'State',
    render: object =>
      object.health ? (
        <PassChip passed={object.health.healthy} label={object.state} />
      ) : (
        object.state
      ),
  },
  {
    title: 'Status',
    render: object => (
      <>
        <Typography variant="body2">
          {object.health?.message ?? object.detail ?? ''}
        </Typography>
        <Typography variant="caption" color="textSecondary">
          {describeObject(object)}
        </Typography>
        {object.conditions
          .filter(c => c.status !== 'True')
          .map(c => (
            <Typography
              key={c.type}
              variant="caption"
              component="p"
              color="textSecondary"
            >
              {c.type}={c.status}
              {c.reason ? ` (${c.reason})` : ''}
              {c.message ? `: ${c.message}` : ''}
            </Typography>
          ))}
        <EventLines events={object.events} />
      </>
    ),
  },
];

const podColumns: TableColumn<PlanPod>[] = [
  {
    title: 'Pod',
    render: pod => (
      <>
        <Typography variant="body2">{pod.name}</Typography>
        <Typography variant="caption" color="textSecondary">
          {pod.workloads.join(', ')}
          {pod.node ? ` · ${pod.node}` : ''}
        </Typography>
      </>
    ),
  },
  {
    title: 'Phase',
    render: pod => <PassChip passed={pod.health.healthy} label={pod.phase} />,
  },
  { title: 'Ready', render: pod => (pod.ready ? 'yes' : 'no') },
  { title: 'Restarts', field: 'restarts' },
  {
    title: 'Containers',
    render: pod => (
      <>
        {pod.containers.map(c => (
          <Typography key={c.name} variant="caption" component="p">
            {c.init ? 'init ' : ''}
            {c.name}: {c.state}
            {c.reason ? ` (${c.reason})` : ''}
            {c.restartCount ? `, ${c.restartCount} restart(s)` : ''}
          </Typography>
        ))}
        <EventLines events={pod.events} />
      </>
    ),
  },
];

/** Props of {@link PlanResourcesCard}. */
export interface PlanResourcesCardProps {
  resources?: PlanResources;
  loading: boolean;
  error?: Error;
  onRefresh: () => void;
}

/** The deployed release's objects and pods with live status and events. */
export function PlanResourcesCard(props: PlanResourcesCardProps) {
  const { resources, loading, error, onRefresh } = props;
  let body;
  if (error) {
    body = (
      <ResponseErrorPanel
        title="Could not read the release's resources. Check that the target is reachable (Targets tab), then refresh."
        error={error}
      />
    );
  } else if (!resources) {
    body = <Progress />;
  } else if (!resources.installed) {
    body = (
      <Typography variant="body2" color="textSecondary">
        The release is not installed. Apply the plan to create its resources.
      </Typography>
    );
  } else {
    body = (
      <>
        <Box display="flex" alignItems="center" mb={1} style={{ gap: 8 }}>
          <PassChip
            passed={resources.summary.healthy}
            label={resources.summary.healthy ? 'healthy' : 'not healthy'}
          />
          <Typography variant="body2" data-testid="resources-summary">
            {resources.summary.message}
          </Typography>
        </Box>
        {resources.warnings.map(warning => (
          <Alert key={warning} severity="warning" style={{ marginBottom: 8 }}>
            {warning}
          </Alert>
        ))}
        <Table<PlanResourceObject>
          title={`Objects (${resources.objects.length})`}
          columns={objectColumns}
          data={resources.objects}
          options={{ paging: false, search: false, padding: 'dense' }}
        />
        <Box mt={2}>
          <Table<PlanPod>
            title={`Pods (${resources.pods.length})`}
            columns={podColumns}
            data={resources.pods}
            options={{ paging: false, search: false, padding: 'dense' }}
            emptyContent={
              <Box p={2}>
                <Typography variant="body2" color="textSecondary">
                  No pods: the release has no workloads, or they are scaled to
                  zero.
                </Typography>
              </Box>
            }
          />
        </Box>
      </>
    );
  }
  return (
    <InfoCard
      title="Resources"
      subheader={
        resources ? `Read at ${formatTime(resources.fetchedAt)}` : undefined
      }
      action={
        <Box mt={1}>
          <Button size="small" onClick={onRefresh} disabled={loading}>
            Refresh
          </Button>
        </Box>
      }
    >
      <div data-testid="plan-resources">{body}</div>
    </InfoCard>
  );
}
