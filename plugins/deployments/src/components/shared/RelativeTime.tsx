import Tooltip from '@material-ui/core/Tooltip';
import { formatRelativeTime, formatTime } from './format';

/** "5 minutes ago", with the exact time on hover. */
export function RelativeTime(props: { at: string | undefined }) {
  if (!props.at) return <>—</>;
  return (
    <Tooltip title={formatTime(props.at)}>
      <span>{formatRelativeTime(props.at)}</span>
    </Tooltip>
  );
}
