import { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isPermission,
  isResourcePermission,
  Permission,
  PolicyDecision,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  createPlacementConditionalDecision,
  createPlanConditionalDecision,
  createProfileConditionalDecision,
  placementConditions,
  planConditions,
  profileConditions,
} from '@kubedeploy/plugin-deployments-backend';
import {
  deploymentsAdvisoryDismissPermission,
  deploymentsAuditReadPermission,
  deploymentsChangeWindowOverridePermission,
  deploymentsChartDeletePermission,
  deploymentsChartReadPermission,
  deploymentsChartRegisterPermission,
  deploymentsHealthReadPermission,
  deploymentsKeyringBackupPermission,
  deploymentsKeyringManagePermission,
  deploymentsKeyringReadPermission,
  deploymentsPlanApplyPermission,
  deploymentsPlanApprovePermission,
  deploymentsPlanCreatePermission,
  deploymentsPlanDeletePermission,
  deploymentsPlanDryRunPermission,
  deploymentsPlanLogsPermission,
  deploymentsPlanReadPermission,
  deploymentsPlanRollbackPermission,
  deploymentsPlanUninstallPermission,
  deploymentsPlanUpdatePermission,
  deploymentsProfileCreatePermission,
  deploymentsProfileDeletePermission,
  deploymentsProfileReadPermission,
  deploymentsProfileUpdatePermission,
  deploymentsProfileUsePermission,
  deploymentsRegistryManagePermission,
  deploymentsReleaseAdoptPermission,
  deploymentsTargetCreatePermission,
  deploymentsTargetDeletePermission,
  deploymentsTargetReadPermission,
  deploymentsTargetTestPermission,
  deploymentsTargetUpdatePermission,
  deploymentsTargetUsePermission,
  DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE,
  DEPLOYMENTS_PLAN_RESOURCE_TYPE,
  DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
} from '@kubedeploy/plugin-deployments-common';

/** Options of the example policy. @public */
export interface DeploymentsExamplePolicyOptions {
  /** The group that runs the platform: may do everything. */
  platformGroup: string;
}

/** The platform group when `permission.deployments.platformGroup` is not set. @public */
export const DEFAULT_PLATFORM_GROUP = 'group:default/platform';

const ALLOW: PolicyDecision = { result: AuthorizeResult.ALLOW };
const DENY: PolicyDecision = { result: AuthorizeResult.DENY };

/**
 * Running the platform: the keyring, targets, charts, registries, the audit
 * trail, and the controls of risky changes (uninstall, adopting releases
 * made outside the portal, approvals, change-window overrides).
 */
const platformWork = [
  deploymentsKeyringManagePermission,
  deploymentsKeyringBackupPermission,
  deploymentsTargetCreatePermission,
  deploymentsTargetUpdatePermission,
  deploymentsTargetDeletePermission,
  deploymentsTargetTestPermission,
  deploymentsChartRegisterPermission,
  deploymentsChartDeletePermission,
  deploymentsRegistryManagePermission,
  deploymentsAuditReadPermission,
  deploymentsPlanUninstallPermission,
  deploymentsReleaseAdoptPermission,
  deploymentsPlanApprovePermission,
  deploymentsChangeWindowOverridePermission,
];

/**
 * Reading, and work that changes nothing in a cluster. A dry-run or
 * preflight still needs `deployments.target.use` on the plan's placement,
 * and a new plan needs it for where it deploys (and `deployments.profile.use`
 * for its profile).
 */
const everyone = [
  deploymentsHealthReadPermission,
  deploymentsKeyringReadPermission,
  deploymentsTargetReadPermission,
  deploymentsChartReadPermission,
  deploymentsPlanCreatePermission,
  deploymentsPlanReadPermission,
  deploymentsPlanDryRunPermission,
  deploymentsPlanLogsPermission,
  deploymentsProfileCreatePermission,
];

/**
 * Changing a plan and what it deployed, and dismissing its patch
 * advisories: the owners of its component.
 */
const planOwnerWork = [
  deploymentsAdvisoryDismissPermission,
  deploymentsPlanUpdatePermission,
  deploymentsPlanDeletePermission,
  deploymentsPlanApplyPermission,
  deploymentsPlanRollbackPermission,
];

/** Values profiles hold sealed secrets: their owners read, change and use them. */
const profileOwnerWork = [
  deploymentsProfileReadPermission,
  deploymentsProfileUpdatePermission,
  deploymentsProfileDeletePermission,
  deploymentsProfileUsePermission,
];

function isOneOf(permission: Permission, permissions: Permission[]): boolean {
  return permissions.some(p => isPermission(permission, p));
}

/**
 * Where developers deploy: their own components, into namespaces the
 * component's owning group owns on that target, never on production.
 */
function placementDecision(
  permission: ResourcePermission<typeof DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE>,
  claims: string[],
): PolicyDecision {
  if (!isPermission(permission, deploymentsTargetUsePermission)) return DENY;
  return createPlacementConditionalDecision(permission, {
    allOf: [
      { not: placementConditions.isProductionTarget({}) },
      placementConditions.isEntityOwner({ claims }),
      placementConditions.isNamespaceOwnedByEntityOwner({}),
    ],
  });
}

/** Changing plans: the owners of the plan's component. */
function planDecision(
  permission: ResourcePermission<typeof DEPLOYMENTS_PLAN_RESOURCE_TYPE>,
  claims: string[],
): PolicyDecision {
  if (!isOneOf(permission, planOwnerWork)) return DENY;
  return createPlanConditionalDecision(
    permission,
    planConditions.isPlanEntityOwner({ claims }),
  );
}

/** Values profiles: their owners (`IS_PROFILE_OWNER`). */
function profileDecision(
  permission: ResourcePermission<typeof DEPLOYMENTS_PROFILE_RESOURCE_TYPE>,
  claims: string[],
): PolicyDecision {
  if (!isOneOf(permission, profileOwnerWork)) return DENY;
  return createProfileConditionalDecision(
    permission,
    profileConditions.isProfileOwner({ claims }),
  );
}

/**
 * An example of a deployments permission policy, as a starting point:
 *
 * - the platform group may do everything;
 * - everyone may read targets, charts and plans, create plans and values
 *   profiles, dry-run and read logs;
 * - owners of a component may edit its plans and apply or roll them back,
 *   into namespaces their group owns on non-production targets
 *   (`deployments.target.use`: not `IS_PRODUCTION_TARGET`, `IS_ENTITY_OWNER`
 *   and `IS_NAMESPACE_OWNED_BY_ENTITY_OWNER`), and dismiss their plans'
 *   patch advisories;
 * - owners of a values profile may read, edit, delete and use it
 *   (`IS_PROFILE_OWNER`);
 * - production targets, approvals, change-window overrides, adopting
 *   releases, uninstalling, and administering the keyring, targets, charts,
 *   registries and the audit trail are for the platform group;
 * - a deployments permission this policy does not know is denied.
 *
 * Permissions of other plugins are allowed, as in the example app.
 *
 * @public
 */
export class DeploymentsExamplePolicy implements PermissionPolicy {
  private constructor(
    private readonly options: DeploymentsExamplePolicyOptions,
  ) {}

  static create(options: DeploymentsExamplePolicyOptions) {
    return new DeploymentsExamplePolicy(options);
  }

  /** Reads `permission.deployments`. */
  static fromConfig(config: Config) {
    return new DeploymentsExamplePolicy({
      platformGroup:
        config.getOptionalString('permission.deployments.platformGroup') ??
        DEFAULT_PLATFORM_GROUP,
    });
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (!permission.name.startsWith('deployments.')) return ALLOW;

    const claims = user?.info.ownershipEntityRefs ?? [];
    if (claims.includes(this.options.platformGroup)) return ALLOW;
    if (isOneOf(permission, platformWork)) return DENY;
    if (isOneOf(permission, everyone)) return ALLOW;
    if (isResourcePermission(permission, DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE)) {
      return placementDecision(permission, claims);
    }
    if (isResourcePermission(permission, DEPLOYMENTS_PLAN_RESOURCE_TYPE)) {
      return planDecision(permission, claims);
    }
    if (isResourcePermission(permission, DEPLOYMENTS_PROFILE_RESOURCE_TYPE)) {
      return profileDecision(permission, claims);
    }
    return DENY;
  }
}
