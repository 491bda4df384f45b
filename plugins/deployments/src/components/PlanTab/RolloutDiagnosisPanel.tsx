import { RolloutDiagnosis } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { formatTime } from '../shared';

/** Props of {@link RolloutDiagnosisPanel}. */
export interface RolloutDiagnosisPanelProps {
  diagnosis: RolloutDiagnosis;
}

/**
 * Why an apply's pods did not become ready, as recorded while helm waited:
 * the pods' states, the newest events and the last lines of failing
 * containers. Helm may have removed the objects since.
 */
export function RolloutDiagnosisPanel(props: RolloutDiagnosisPanelProps) {
  const { diagnosis } = props;
  return (
    <Box mt={1} mb={1} data-testid="rollout-diagnosis">
      <Typography variant="subtitle2">
        What the release's pods did (as of {formatTime(diagnosis.takenAt)})
      </Typography>
      {diagnosis.pods.length === 0 ? (
        <Typography variant="body2" color="textSecondary">
          No pod of the release existed while helm waited.
        </Typography>
      ) : (
        <Table size="small" aria-label="Pods of the release">
          <TableHead>
            <TableRow>
              <TableCell>Pod</TableCell>
              <TableCell>Phase</TableCell>
              <TableCell>State</TableCell>
              <TableCell>Restarts</TableCell>
              <TableCell>Containers</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {diagnosis.pods.map(pod => (
              <TableRow key={pod.name}>
                <TableCell>{pod.name}</TableCell>
                <TableCell>{pod.phase}</TableCell>
                <TableCell>
                  <Chip
                    size="small"
                    label={pod.health}
                    color={pod.healthy ? 'default' : 'secondary'}
                  />
                </TableCell>
                <TableCell>{pod.restarts}</TableCell>
                <TableCell>
                  {pod.containers.map(container => (
                    <Typography
                      key={container.name}
                      variant="body2"
                      component="div"
                    >
                      {container.name}
                      {container.init ? ' (init)' : ''}:{' '}
                      {container.state === 'unknown'
                        ? 'not started'
                        : container.state}
                      {container.reason ? ` · ${container.reason}` : ''}
                      {container.lastTermination
                        ? ` · last ended ${container.lastTermination}`
                        : ''}
                      {container.message ? ` · ${container.message}` : ''}
                    </Typography>
                  ))}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {diagnosis.events.length > 0 && (
        <>
          <Typography variant="subtitle2" style={{ marginTop: 8 }}>
            Newest events
          </Typography>
          <Table size="small" aria-label="Events of the release">
            <TableBody>
              {diagnosis.events.map((event, index) => (
                <TableRow key={`${event.object}-${event.reason}-${index}`}>
                  <TableCell>
                    <Chip
                      size="small"
                      label={event.type}
                      color={event.type === 'Warning' ? 'secondary' : 'default'}
                    />
                  </TableCell>
                  <TableCell style={{ whiteSpace: 'nowrap' }}>
                    {event.reason}
                  </TableCell>
                  <TableCell style={{ wordBreak: 'break-word' }}>
                    {event.object}
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
        </>
      )}
      {diagnosis.logs.map(tail => (
        <Box key={`${tail.pod}/${tail.container}`} mt={1}>
          <Typography variant="subtitle2">
            Last lines of {tail.pod}/{tail.container}
            {tail.previous ? ' (the instance that crashed)' : ''}
            {tail.truncated ? ', cut' : ''}
          </Typography>
          <pre
            style={{
              margin: 0,
              fontSize: 12,
              maxHeight: 240,
              overflow: 'auto',
              whiteSpace: 'pre-wrap',
            }}
          >
            {tail.lines.length > 0 ? tail.lines.join('\n') : '(no output)'}
          </pre>
        </Box>
      ))}
      {diagnosis.warnings.map(warning => (
        <Typography key={warning} variant="caption" component="p">
          {warning}
        </Typography>
      ))}
    </Box>
  );
}
