import {
  ReleaseSyncState,
  ReleaseSyncStatus,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { PlanResources } from '../../api/DeploymentsApi';
import { errorMessage } from '../shared';

const useStyles = makeStyles(theme => {
  const status = (theme.palette as { status?: Partial<Record<string, string>> })
    .status;
  const tone = (color: string | undefined) => ({
    color: theme.palette.getContrastText(color ?? theme.palette.grey[500]),
    backgroundColor: color ?? theme.palette.grey[500],
    fontWeight: 'bold' as const,
  });
  return {
    ok: tone(status?.ok),
    warning: tone(status?.warning),
    error: tone(status?.error),
    neutral: tone(theme.palette.grey[300]),
  };
});

const SYNC: Record<
  ReleaseSyncStatus,
  { label: string; tone: 'ok' | 'warning' | 'neutral' }
> = {
  'in-sync': { label: 'in sync', tone: 'ok' },
  differs: { label: 'differs', tone: 'warning' },
  'not-installed': { label: 'not installed', tone: 'neutral' },
};

/** Props of {@link ReleaseSyncChip}. */
export interface ReleaseSyncChipProps {
  state?: ReleaseSyncState;
  loading?: boolean;
  error?: Error;
}

/** Whether the deployed release matches the plan, with the reason on hover. */
export function ReleaseSyncChip(props: ReleaseSyncChipProps) {
  const { state, loading, error } = props;
  const classes = useStyles();
  let label = 'sync unknown';
  let tone: 'ok' | 'warning' | 'neutral' = 'neutral';
  let title = loading ? 'Reading the release…' : '';
  if (state) {
    ({ label, tone } = SYNC[state.status] ?? { label: state.status, tone });
    title = state.summary;
  } else if (error) {
    title = `The release could not be read: ${errorMessage(error)}`;
  } else if (loading) {
    label = 'sync …';
  }
  return (
    <Tooltip title={title}>
      <Chip
        size="small"
        label={label}
        className={classes[tone]}
        data-testid="release-sync"
      />
    </Tooltip>
  );
}

/** The release's health from its live objects, with the reason on hover. */
export function ReleaseHealthChip(props: {
  resources?: PlanResources;
  error?: Error;
}) {
  const { resources, error } = props;
  const classes = useStyles();
  if (!resources || !resources.installed) {
    return (
      <Tooltip
        title={
          error
            ? `The release could not be read: ${errorMessage(error)}`
            : resources?.summary.message ?? ''
        }
      >
        <Chip
          size="small"
          label="health unknown"
          className={classes.neutral}
          data-testid="release-health"
        />
      </Tooltip>
    );
  }
  const { healthy, message } = resources.summary;
  return (
    <Tooltip title={message}>
      <Chip
        size="small"
        label={healthy ? 'healthy' : 'not healthy'}
        className={healthy ? classes.ok : classes.error}
        data-testid="release-health"
      />
    </Tooltip>
  );
}

/**
 * The release's own state beside the plan's: sync and health chips, and
 * each way the deployed release differs from the plan.
 */
export function ReleaseStateLine(props: {
  sync?: ReleaseSyncState;
  syncLoading?: boolean;
  syncError?: Error;
  resources?: PlanResources;
  resourcesError?: Error;
}) {
  const { sync } = props;
  return (
    <Box mb={1} data-testid="release-state">
      <Box display="flex" alignItems="center" style={{ gap: 8 }}>
        <Typography variant="body2" style={{ minWidth: 72 }}>
          Release
        </Typography>
        <ReleaseSyncChip
          state={sync}
          loading={props.syncLoading}
          error={props.syncError}
        />
        <ReleaseHealthChip
          resources={props.resources}
          error={props.resourcesError}
        />
        {sync?.live && (
          <Typography variant="caption" color="textSecondary">
            revision {sync.live.revision} ({sync.live.chart}, {sync.live.status}
            ){sync.live.actor ? ` by ${sync.live.actor}` : ''}
          </Typography>
        )}
      </Box>
      {sync?.status === 'differs' && (
        <Box
          component="ul"
          m={0}
          mt={0.5}
          pl={3}
          data-testid="sync-differences"
        >
          {sync.differences.map(difference => (
            <Typography
              component="li"
              variant="caption"
              key={`${difference.field}:${difference.message}`}
            >
              {difference.message}
            </Typography>
          ))}
        </Box>
      )}
    </Box>
  );
}
