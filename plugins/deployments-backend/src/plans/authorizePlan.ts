import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { ResourcePermission } from '@backstage/plugin-permission-common';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { ResourceAuthorizer } from '../permissions/ResourceAuthorizer';
import { StoredPlan } from './DatabasePlanStore';
import { PlanService } from './PlanService';

/**
 * Loads a plan and checks a plan permission on it, conditional rules
 * included, for every route that acts on one plan. A plan that does not
 * exist is refused like one the caller may not see: "not found" comes only
 * after the decision.
 */
export function planAuthorization(context: {
  plans: PlanService;
  authorizer: ResourceAuthorizer;
}) {
  return async (
    credentials: BackstageCredentials,
    permission: ResourcePermission<'deployments-plan'>,
    id: string,
  ): Promise<StoredPlan> =>
    context.authorizer.authorizeLoaded(
      credentials,
      permission,
      await context.plans.getStored(id).catch(() => undefined),
      planPermissionRules,
      `Release plan ${id}`,
    );
}
