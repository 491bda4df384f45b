import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Drawer from '@material-ui/core/Drawer';
import IconButton from '@material-ui/core/IconButton';
import Link from '@material-ui/core/Link';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import CloseIcon from '@material-ui/icons/Close';
import { Link as RouterLink } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef, PlanPod } from '../../api/DeploymentsApi';
import { formatTime } from '../shared';
import { useLogsLink } from './useLogsLink';

/** Props of {@link ResourceDrawer}. */
export interface ResourceDrawerProps {
  planId: string;
  /** The object to show; the drawer is closed without one. */
  object?: { kind: string; name: string; apiVersion?: string };
  /** For a pod: its containers, each linked to its logs. */
  pod?: PlanPod;
  onClose: () => void;
}

/**
 * One live object of the release in a side drawer: its conditions, its
 * newest events and its YAML as the cluster has it (Secret values hidden by
 * the backend), and for a pod a link to each container's logs.
 */
export function ResourceDrawer(props: ResourceDrawerProps) {
  const { planId, object, pod, onClose } = props;
  return (
    <Drawer anchor="right" open={Boolean(object)} onClose={onClose}>
      <Box width={720} maxWidth="100vw" p={2} data-testid="resource-drawer">
        {object && (
          <DrawerContent
            planId={planId}
            object={object}
            pod={pod}
            onClose={onClose}
          />
        )}
      </Box>
    </Drawer>
  );
}

function DrawerContent(props: {
  planId: string;
  object: { kind: string; name: string; apiVersion?: string };
  pod?: PlanPod;
  onClose: () => void;
}) {
  const { planId, object, pod, onClose } = props;
  const api = useApi(deploymentsApiRef);
  const logsLink = useLogsLink();
  const detail = useAsync(
    () => api.getPlanResourceObject(planId, object),
    [api, planId, object.kind, object.name, object.apiVersion],
  );
  return (
    <>
      <Box display="flex" alignItems="center" justifyContent="space-between">
        <Typography variant="h6">
          {object.kind} {object.name}
        </Typography>
        <IconButton size="small" aria-label="Close" onClick={onClose}>
          <CloseIcon fontSize="small" />
        </IconButton>
      </Box>
      {pod && (
        <Box mt={1} data-testid="resource-drawer-logs">
          <Typography variant="subtitle2">Logs</Typography>
          {pod.containers.map(container => (
            <Typography key={container.name} variant="body2">
              <Link
                component={RouterLink}
                to={logsLink(planId, pod.name, container.name)}
              >
                {container.init ? 'init container ' : ''}
                {container.name}
              </Link>{' '}
              ({container.state}
              {container.reason ? `, ${container.reason}` : ''}
              {container.restartCount
                ? `, ${container.restartCount} restart(s)`
                : ''}
              )
            </Typography>
          ))}
        </Box>
      )}
      {detail.loading && <Progress />}
      {detail.error && (
        <ResponseErrorPanel
          title="Could not read the object. It may have been removed; refresh the resources."
          error={detail.error}
        />
      )}
      {detail.value && (
        <>
          {detail.value.owners.length > 0 && (
            <Typography variant="body2" color="textSecondary">
              Owned by {detail.value.owners.join(', ')}
            </Typography>
          )}
          <Box mt={2}>
            <Typography variant="subtitle2">Conditions</Typography>
            {detail.value.conditions.length === 0 ? (
              <Typography variant="body2" color="textSecondary">
                The object reports no conditions.
              </Typography>
            ) : (
              <Table size="small" aria-label="Conditions">
                <TableHead>
                  <TableRow>
                    <TableCell>Type</TableCell>
                    <TableCell>Status</TableCell>
                    <TableCell>Reason</TableCell>
                    <TableCell>Message</TableCell>
                    <TableCell>Since</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {detail.value.conditions.map(condition => (
                    <TableRow key={condition.type}>
                      <TableCell style={{ whiteSpace: 'nowrap' }}>
                        {condition.type}
                      </TableCell>
                      <TableCell>{condition.status}</TableCell>
                      <TableCell>{condition.reason ?? ''}</TableCell>
                      <TableCell>{condition.message ?? ''}</TableCell>
                      <TableCell>
                        {condition.lastTransitionTime
                          ? formatTime(condition.lastTransitionTime)
                          : ''}
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </Box>
          <Box mt={2}>
            <Typography variant="subtitle2">Events</Typography>
            {detail.value.events.length === 0 ? (
              <Typography variant="body2" color="textSecondary">
                No recent events.
              </Typography>
            ) : (
              <Table size="small" aria-label="Events">
                <TableBody>
                  {detail.value.events.map((event, index) => (
                    <TableRow key={index}>
                      <TableCell>{event.type}</TableCell>
                      <TableCell style={{ whiteSpace: 'nowrap' }}>
                        {event.reason}
                      </TableCell>
                      <TableCell>
                        {event.message}
                        {event.count > 1 ? ` (×${event.count})` : ''}
                      </TableCell>
                      <TableCell>
                        {event.lastSeen ? formatTime(event.lastSeen) : ''}
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </Box>
          <Box mt={2}>
            <Typography variant="subtitle2">Live YAML</Typography>
            <pre
              data-testid="resource-yaml"
              style={{
                fontSize: 12,
                maxHeight: 480,
                overflow: 'auto',
                margin: 0,
              }}
            >
              {detail.value.yaml}
            </pre>
          </Box>
        </>
      )}
    </>
  );
}
