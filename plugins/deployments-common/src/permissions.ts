import { createPermission } from '@backstage/plugin-permission-common';

/** Resource type of a deployment target (a cluster with credentials). @public */
export const DEPLOYMENTS_TARGET_RESOURCE_TYPE = 'deployments-target';

/** Resource type of a release plan. @public */
export const DEPLOYMENTS_PLAN_RESOURCE_TYPE = 'deployments-plan';

/**
 * Resource type of a placement: a target, a namespace in it and the catalog
 * entity deployed there. The resource of `deployments.target.use` and
 * `deployments.release.adopt`; its ref is `<target>/<namespace>/<entityRef>`.
 * @public
 */
export const DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE = 'deployments-placement';

/** Resource type of a values profile. @public */
export const DEPLOYMENTS_PROFILE_RESOURCE_TYPE = 'deployments-profile';

/**
 * Reading the deployments health summary (keyring state, target
 * reachability, failing releases).
 * @public
 */
export const deploymentsHealthReadPermission = createPermission({
  name: 'deployments.health.read',
  attributes: { action: 'read' },
});

/** Reading the keyring's state and fingerprint (never key material). @public */
export const deploymentsKeyringReadPermission = createPermission({
  name: 'deployments.keyring.read',
  attributes: { action: 'read' },
});

/**
 * Bootstrapping, unlocking, sealing, self-testing, restoring and rotating the
 * keyring. Grant it to the platform administrators only.
 * @public
 */
export const deploymentsKeyringManagePermission = createPermission({
  name: 'deployments.keyring.manage',
  attributes: { action: 'update' },
});

/**
 * Exporting and verifying `.kbk` keyring backups. Separate from manage so a
 * policy can let an operator take backups without unlocking or rotating.
 * @public
 */
export const deploymentsKeyringBackupPermission = createPermission({
  name: 'deployments.keyring.backup',
  attributes: { action: 'read' },
});

/** Registering a new target. @public */
export const deploymentsTargetCreatePermission = createPermission({
  name: 'deployments.target.create',
  attributes: { action: 'create' },
});

/** Seeing a target (never its credentials). @public */
export const deploymentsTargetReadPermission = createPermission({
  name: 'deployments.target.read',
  attributes: { action: 'read' },
  resourceType: DEPLOYMENTS_TARGET_RESOURCE_TYPE,
});

/** Changing a target's settings, allowlist or credentials. @public */
export const deploymentsTargetUpdatePermission = createPermission({
  name: 'deployments.target.update',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_TARGET_RESOURCE_TYPE,
});

/** Deleting a target that no release plan uses. @public */
export const deploymentsTargetDeletePermission = createPermission({
  name: 'deployments.target.delete',
  attributes: { action: 'delete' },
  resourceType: DEPLOYMENTS_TARGET_RESOURCE_TYPE,
});

/**
 * Testing a target's connection with its stored credentials (reachability
 * and an RBAC summary).
 * @public
 */
export const deploymentsTargetTestPermission = createPermission({
  name: 'deployments.target.test',
  attributes: { action: 'read' },
  resourceType: DEPLOYMENTS_TARGET_RESOURCE_TYPE,
});

/**
 * Deploying into a namespace of a target: checked when a plan is created or
 * changed and before every operation on it. Conditional on the placement
 * rules (target owner and name, production, namespace and its owners).
 * @public
 */
export const deploymentsTargetUsePermission = createPermission({
  name: 'deployments.target.use',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE,
});

/**
 * Taking over a Helm release that exists in the cluster but that no apply of
 * the plan created (installed by hand, by another tool or by another plan).
 * @public
 */
export const deploymentsReleaseAdoptPermission = createPermission({
  name: 'deployments.release.adopt',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE,
});

/** Registering a chart version from a registry. @public */
export const deploymentsChartRegisterPermission = createPermission({
  name: 'deployments.chart.register',
  attributes: { action: 'create' },
});

/** Seeing the chart catalog and listing a repository's versions. @public */
export const deploymentsChartReadPermission = createPermission({
  name: 'deployments.chart.read',
  attributes: { action: 'read' },
});

/** Removing a chart version no release plan uses. @public */
export const deploymentsChartDeletePermission = createPermission({
  name: 'deployments.chart.delete',
  attributes: { action: 'delete' },
});

/** Storing and removing registry credentials. @public */
export const deploymentsRegistryManagePermission = createPermission({
  name: 'deployments.registry.manage',
  attributes: { action: 'update' },
});

/** Reading the plugin's audit trail. @public */
export const deploymentsAuditReadPermission = createPermission({
  name: 'deployments.audit.read',
  attributes: { action: 'read' },
});

/** Creating a values profile for a registered chart. @public */
export const deploymentsProfileCreatePermission = createPermission({
  name: 'deployments.profile.create',
  attributes: { action: 'create' },
});

/** Reading values profiles; secret values are only ever shown as "set". @public */
export const deploymentsProfileReadPermission = createPermission({
  name: 'deployments.profile.read',
  attributes: { action: 'read' },
  resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
});

/** Editing a values profile, which creates a new revision. @public */
export const deploymentsProfileUpdatePermission = createPermission({
  name: 'deployments.profile.update',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
});

/**
 * Binding a values profile to a release plan, which deploys its sealed
 * secret values. Checked at plan create and change and before every
 * operation that renders the profile.
 * @public
 */
export const deploymentsProfileUsePermission = createPermission({
  name: 'deployments.profile.use',
  attributes: { action: 'read' },
  resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
});

/** Deleting a values profile no release plan uses. @public */
export const deploymentsProfileDeletePermission = createPermission({
  name: 'deployments.profile.delete',
  attributes: { action: 'delete' },
  resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
});

/**
 * Creating a release plan. Not a resource permission: the plan does not exist
 * yet, so policies decide on the user alone (the entity's ownership is
 * checked again on every later plan permission).
 * @public
 */
export const deploymentsPlanCreatePermission = createPermission({
  name: 'deployments.plan.create',
  attributes: { action: 'create' },
});

/** Seeing a release plan, its operations, resources and Helm history. @public */
export const deploymentsPlanReadPermission = createPermission({
  name: 'deployments.plan.read',
  attributes: { action: 'read' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Editing a release plan (a new plan revision). @public */
export const deploymentsPlanUpdatePermission = createPermission({
  name: 'deployments.plan.update',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Deleting a release plan (not the release it deployed). @public */
export const deploymentsPlanDeletePermission = createPermission({
  name: 'deployments.plan.delete',
  attributes: { action: 'delete' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Running a dry-run or a preflight of a plan: nothing changes in the cluster. @public */
export const deploymentsPlanDryRunPermission = createPermission({
  name: 'deployments.plan.dry-run',
  attributes: {},
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Applying a plan (Helm upgrade/install) and cancelling its running operation. @public */
export const deploymentsPlanApplyPermission = createPermission({
  name: 'deployments.plan.apply',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Rolling a release back to an earlier Helm revision. @public */
export const deploymentsPlanRollbackPermission = createPermission({
  name: 'deployments.plan.rollback',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Uninstalling the release a plan deployed. @public */
export const deploymentsPlanUninstallPermission = createPermission({
  name: 'deployments.plan.uninstall',
  attributes: { action: 'delete' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/**
 * Approving or rejecting another user's request to apply, roll back or
 * uninstall a plan on a target that requires approval. Nobody approves
 * their own request, whatever the policy says.
 * @public
 */
export const deploymentsPlanApprovePermission = createPermission({
  name: 'deployments.plan.approve',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/**
 * Applying, rolling back or uninstalling outside the target's change
 * windows or during a freeze: the emergency override. Needs a reason and is
 * audited as critical.
 * @public
 */
export const deploymentsChangeWindowOverridePermission = createPermission({
  name: 'deployments.change-window.override',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Reading the pod logs of a plan's release. @public */
export const deploymentsPlanLogsPermission = createPermission({
  name: 'deployments.plan.logs',
  attributes: { action: 'read' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/**
 * Dismissing a patch advisory of a plan's release (with a reason, optionally
 * until a date). Reading advisories follows `deployments.plan.read`.
 * @public
 */
export const deploymentsAdvisoryDismissPermission = createPermission({
  name: 'deployments.advisory.dismiss',
  attributes: { action: 'update' },
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** Every permission of the deployments plugin. @public */
export const deploymentsPermissions = [
  deploymentsHealthReadPermission,
  deploymentsKeyringReadPermission,
  deploymentsKeyringManagePermission,
  deploymentsKeyringBackupPermission,
  deploymentsTargetCreatePermission,
  deploymentsTargetReadPermission,
  deploymentsTargetUpdatePermission,
  deploymentsTargetDeletePermission,
  deploymentsTargetTestPermission,
  deploymentsTargetUsePermission,
  deploymentsReleaseAdoptPermission,
  deploymentsAuditReadPermission,
  deploymentsChartRegisterPermission,
  deploymentsChartReadPermission,
  deploymentsChartDeletePermission,
  deploymentsRegistryManagePermission,
  deploymentsProfileCreatePermission,
  deploymentsProfileReadPermission,
  deploymentsProfileUpdatePermission,
  deploymentsProfileDeletePermission,
  deploymentsProfileUsePermission,
  deploymentsPlanCreatePermission,
  deploymentsPlanReadPermission,
  deploymentsPlanUpdatePermission,
  deploymentsPlanDeletePermission,
  deploymentsPlanDryRunPermission,
  deploymentsPlanApplyPermission,
  deploymentsPlanRollbackPermission,
  deploymentsPlanUninstallPermission,
  deploymentsPlanLogsPermission,
  deploymentsPlanApprovePermission,
  deploymentsChangeWindowOverridePermission,
  deploymentsAdvisoryDismissPermission,
];
