import { createPermission } from '@backstage/plugin-permission-common';

/** Resource type of a deployment target (a cluster with credentials). @public */
export const DEPLOYMENTS_TARGET_RESOURCE_TYPE = 'deployments-target';

/** Resource type of a release plan. @public */
export const DEPLOYMENTS_PLAN_RESOURCE_TYPE = 'deployments-plan';

/**
 * Reading the deployments health summary (keyring state, target
 * reachability, failing releases). Basic: it names no single resource.
 * @public
 */
export const deploymentsHealthReadPermission = createPermission({
  name: 'deployments.health.read',
  attributes: { action: 'read' },
});

/** Every permission of the deployments plugin. @public */
export const deploymentsPermissions = [deploymentsHealthReadPermission];
