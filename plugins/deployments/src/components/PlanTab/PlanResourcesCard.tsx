import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Link from '@material-ui/core/Link';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import { PlanResourceEvent, PlanResources } from '../../api/DeploymentsApi';
import { formatTime } from '../shared';
import { PassChip } from './PlanStatusChip';
import { ResourceDrawer } from './ResourceDrawer';
import { buildResourceTree, ResourceTreeNode } from './resourceTree';
import { useLogsLink } from './useLogsLink';

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

/** The release's objects by owner, each opening its drawer; pods link to their logs. */
function ResourceTree(props: { planId: string; resources: PlanResources }) {
  const { planId, resources } = props;
  const rows = buildResourceTree(resources);
  const logsLink = useLogsLink();
  const [open, setOpen] = useState<ResourceTreeNode | undefined>();
  return (
    <>
      <Table size="small" aria-label="Resources of the release">
        <TableHead>
          <TableRow>
            <TableCell>Object</TableCell>
            <TableCell>State</TableCell>
            <TableCell>Status</TableCell>
            <TableCell />
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.map(row => (
            <TableRow
              key={row.key}
              data-testid={`resource-${row.kind}-${row.name}`}
            >
              <TableCell>
                <Box pl={row.depth * 3} display="flex" alignItems="center">
                  {row.depth > 0 && (
                    <Typography
                      component="span"
                      color="textSecondary"
                      style={{ marginRight: 4 }}
                    >
                      └
                    </Typography>
                  )}
                  <Typography variant="body2" component="span">
                    <strong>{row.kind}</strong> {row.name}
                  </Typography>
                </Box>
                {row.object && !row.object.namespace && (
                  <Typography variant="caption" color="textSecondary">
                    cluster-scoped
                  </Typography>
                )}
              </TableCell>
              <TableCell>
                {row.healthy === undefined ? (
                  row.state
                ) : (
                  <PassChip passed={row.healthy} label={row.state} />
                )}
              </TableCell>
              <TableCell>
                <Typography variant="body2">{row.message}</Typography>
                {row.detail && (
                  <Typography variant="caption" color="textSecondary">
                    {row.detail}
                  </Typography>
                )}
                {row.object?.conditions
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
                <EventLines events={row.events} />
              </TableCell>
              <TableCell align="right">
                <Box
                  display="flex"
                  justifyContent="flex-end"
                  style={{ gap: 4 }}
                >
                  {row.readable && (
                    <Button
                      size="small"
                      onClick={() => setOpen(row)}
                      aria-label={`Details of ${row.kind} ${row.name}`}
                    >
                      Details
                    </Button>
                  )}
                  {row.pod && (
                    <Link
                      component={RouterLink}
                      to={logsLink(
                        planId,
                        row.pod.name,
                        (
                          row.pod.containers.find(c => !c.init) ??
                          row.pod.containers[0]
                        )?.name,
                      )}
                      aria-label={`Logs of ${row.pod.name}`}
                      style={{
                        alignSelf: 'center',
                        marginLeft: 8,
                        whiteSpace: 'nowrap',
                      }}
                    >
                      Logs
                    </Link>
                  )}
                </Box>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {rows.every(row => !row.pod) && (
        <Box p={1}>
          <Typography variant="body2" color="textSecondary">
            No pods: the release has no workloads, or they are scaled to zero.
          </Typography>
        </Box>
      )}
      <ResourceDrawer
        planId={planId}
        object={
          open
            ? {
                kind: open.kind,
                name: open.name,
                ...(open.object && { apiVersion: open.object.apiVersion }),
              }
            : undefined
        }
        pod={open?.pod}
        onClose={() => setOpen(undefined)}
      />
    </>
  );
}

/** Props of {@link PlanResourcesCard}. */
export interface PlanResourcesCardProps {
  planId: string;
  resources?: PlanResources;
  loading: boolean;
  error?: Error;
  onRefresh: () => void;
}

/** The deployed release's objects as a tree by owner, with live status and events, each opening a drawer. */
export function PlanResourcesCard(props: PlanResourcesCardProps) {
  const { planId, resources, loading, error, onRefresh } = props;
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
        <Typography
          variant="caption"
          color="textSecondary"
          component="p"
          data-testid="resources-counts"
        >
          Objects ({resources.objects.length}) · ReplicaSets (
          {resources.replicaSets?.length ?? 0}) · Pods ({resources.pods.length})
        </Typography>
        <ResourceTree planId={planId} resources={resources} />
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
