import {
  BasicPermission,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { usePermission } from '@backstage/plugin-permission-react';
import Button, { ButtonProps } from '@material-ui/core/Button';
import Tooltip from '@material-ui/core/Tooltip';

/** Props of {@link PermissionButton}. */
export type PermissionButtonProps = Omit<ButtonProps, 'disabled'> & {
  /** What the action needs; the backend enforces it anyway. */
  permission: BasicPermission | ResourcePermission;
  /** The resource (e.g. the target's name) for resource permissions. */
  resourceRef?: string;
  /** Another reason the action is unavailable now, shown as the tooltip. */
  disabledReason?: string;
  /** Waits for something (e.g. a request in flight). */
  busy?: boolean;
};

/**
 * A button that is disabled, with the reason as a tooltip, when the
 * permission framework denies its action or `disabledReason` is set.
 */
export function PermissionButton(props: PermissionButtonProps) {
  const {
    permission,
    resourceRef,
    disabledReason,
    busy,
    title,
    ...buttonProps
  } = props;
  const { allowed, loading } = usePermission(
    permission.type === 'resource'
      ? { permission: permission as ResourcePermission, resourceRef }
      : { permission: permission as BasicPermission },
  );
  let reason = disabledReason;
  if (!loading && !allowed) {
    reason = `You are not allowed to do this (needs the ${permission.name} permission)`;
  }
  const disabled = loading || busy || reason !== undefined;
  return (
    <Tooltip title={reason ?? title ?? ''}>
      {/* A disabled button fires no events; the span carries the tooltip. */}
      <span>
        <Button {...buttonProps} disabled={disabled} />
      </span>
    </Tooltip>
  );
}
