import {
  AuthorizeResult,
  isPermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  deploymentsAuditReadPermission,
  deploymentsKeyringBackupPermission,
  deploymentsKeyringManagePermission,
  deploymentsPlanApplyPermission,
  deploymentsPlanDeletePermission,
  deploymentsPlanRollbackPermission,
  deploymentsPlanUninstallPermission,
  deploymentsPlanUpdatePermission,
  deploymentsRegistryManagePermission,
  deploymentsTargetCreatePermission,
  deploymentsTargetDeletePermission,
  deploymentsTargetTestPermission,
  deploymentsTargetUpdatePermission,
} from '@kubedeploy/plugin-deployments-common';
import {
  createPlanConditionalDecision,
  planConditions,
} from '@kubedeploy/plugin-deployments-backend';

/** Options of the example policy. */
export interface DeploymentsExamplePolicyOptions {
  /** The group that runs the platform: may do everything. */
  platformGroup: string;
  /** Targets only the platform group may change releases on. */
  productionTargets: string[];
}

/**
 * An example of a deployments permission policy, as a starting point:
 *
 * - the platform group may do everything;
 * - everyone may read, dry-run, run preflights, read logs and create plans;
 * - owners of a component may edit its plans and apply or roll them back on
 *   non-production targets;
 * - uninstalling releases and administering the keyring, targets, registries
 *   and the audit trail is left to the platform group.
 *
 * Permissions of other plugins are allowed, as in the example app.
 */
export class DeploymentsExamplePolicy implements PermissionPolicy {
  constructor(private readonly options: DeploymentsExamplePolicyOptions) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (!permission.name.startsWith('deployments.')) {
      return { result: AuthorizeResult.ALLOW };
    }
    const claims = user?.info.ownershipEntityRefs ?? [];
    if (claims.includes(this.options.platformGroup)) {
      return { result: AuthorizeResult.ALLOW };
    }

    const platformOnly = [
      deploymentsPlanUninstallPermission,
      deploymentsKeyringManagePermission,
      deploymentsKeyringBackupPermission,
      deploymentsTargetCreatePermission,
      deploymentsTargetUpdatePermission,
      deploymentsTargetDeletePermission,
      deploymentsTargetTestPermission,
      deploymentsRegistryManagePermission,
      deploymentsAuditReadPermission,
    ];
    if (platformOnly.some(p => isPermission(permission, p))) {
      return { result: AuthorizeResult.DENY };
    }

    if (
      isPermission(permission, deploymentsPlanApplyPermission) ||
      isPermission(permission, deploymentsPlanRollbackPermission)
    ) {
      return createPlanConditionalDecision(permission, {
        allOf: [
          planConditions.isPlanEntityOwner({ claims }),
          {
            not: planConditions.hasPlanTarget({
              targets: this.options.productionTargets,
            }),
          },
        ],
      });
    }
    if (
      isPermission(permission, deploymentsPlanUpdatePermission) ||
      isPermission(permission, deploymentsPlanDeletePermission)
    ) {
      return createPlanConditionalDecision(
        permission,
        planConditions.isPlanEntityOwner({ claims }),
      );
    }
    // Reading, dry-runs, preflights, logs, plan creation, profiles and charts.
    return { result: AuthorizeResult.ALLOW };
  }
}
