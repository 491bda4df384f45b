import { deploymentsPlanReadPermission } from '@kubedeploy/plugin-deployments-common';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { PlanService } from '../plans/PlanService';
import { ApiRouter, RouteContext } from '../routes';
import { TargetService } from '../targets/TargetService';
import { changeWindowStatus } from './changeWindowSchedule';

export interface ChangeWindowRouteContext extends RouteContext {
  plans: PlanService;
  targets: TargetService;
}

/** Whether a plan's target accepts changes now, over HTTP. */
export function createChangeWindowRoutes(
  router: ApiRouter,
  context: ChangeWindowRouteContext,
) {
  const { httpAuth, authorizer, audit, plans, targets } = context;

  router.get('/plans/:id/change-window', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const status = await audit.run(
      {
        eventId: 'plan-change-window',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        // A plan that does not exist is refused like one the user may not see.
        const plan = await authorizer.authorizeLoaded(
          credentials,
          deploymentsPlanReadPermission,
          await plans.getStored(req.params.id).catch(() => undefined),
          planPermissionRules,
          `Release plan ${req.params.id}`,
        );
        const target = await targets.getStored(plan.targetName);
        return changeWindowStatus(target.changeWindows, new Date());
      },
    );
    res.json(status);
  });
}
