import {
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { usePermission } from '@backstage/plugin-permission-react';
import IconButton from '@material-ui/core/IconButton';
import Tooltip from '@material-ui/core/Tooltip';
import { ReactNode } from 'react';

/** Props of {@link PermissionIconButton}. */
export interface PermissionIconButtonProps {
  /** The accessible name, also the tooltip while the action is available. */
  label: string;
  icon: ReactNode;
  permission: BasicPermission | ResourcePermission;
  resourceRef?: string;
  disabledReason?: string;
  color?: 'default' | 'primary' | 'secondary';
  onClick: () => void;
}

/** A compact row action; like PermissionButton, disabled with the reason as its tooltip. */
export function PermissionIconButton(props: PermissionIconButtonProps) {
  const { label, icon, permission, resourceRef, disabledReason, color } = props;
  const { allowed, loading } = usePermission(
    permission.type === 'resource'
      ? { permission: permission as ResourcePermission, resourceRef }
      : { permission: permission as BasicPermission },
  );
  let reason = disabledReason;
  if (!loading && !allowed) {
    reason = `You are not allowed to do this (needs the ${permission.name} permission)`;
  }
  return (
    <Tooltip title={reason ?? label}>
      <span>
        <IconButton
          size="small"
          aria-label={label}
          color={color}
          disabled={loading || reason !== undefined}
          onClick={props.onClick}
        >
          {icon}
        </IconButton>
      </span>
    </Tooltip>
  );
}
