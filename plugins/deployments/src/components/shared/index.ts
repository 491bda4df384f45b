export { errorMessage, errorName, errorStatus } from './errors';
export {
  formatBytes,
  formatRelativeTime,
  formatTime,
  parseList,
  shortDigest,
} from './format';
export { notifyDeploymentsChanged, useDeploymentsChanged } from './refresh';
export { PermissionButton } from './PermissionButton';
export { ConfirmDialog } from './ConfirmDialog';
export { PermissionIconButton } from './PermissionIconButton';
export { OPERATION_KIND_LABELS, OPERATION_STATUS_LABELS } from './labels';
export { usePlanLink } from './planLink';
export { RelativeTime } from './RelativeTime';
