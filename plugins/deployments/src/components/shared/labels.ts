import {
  OperationKind,
  OperationStatus,
} from '@kubedeploy/plugin-deployments-common';

/** Operation kinds as people read them. */
export const OPERATION_KIND_LABELS: Record<OperationKind, string> = {
  'dry-run': 'Dry-run',
  preflight: 'Preflight',
  apply: 'Apply',
  rollback: 'Rollback',
  uninstall: 'Uninstall',
};

/** Operation statuses as people read them. */
export const OPERATION_STATUS_LABELS: Record<OperationStatus, string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};
