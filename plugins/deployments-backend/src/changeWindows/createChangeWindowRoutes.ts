import { deploymentsPlanReadPermission } from '@kubedeploy/plugin-deployments-common';
import { PlanService } from '../plans/PlanService';
import { ApiRouter, RouteContext } from '../routes';
import { TargetService } from '../targets/TargetService';
import { changeWindowStatus } from './changeWindowSchedule';
import { planAuthorization } from '../plans/authorizePlan';

export interface ChangeWindowRouteContext extends RouteContext {
  plans: PlanService;
  targets: TargetService;
}

/** Whether a plan's target accepts changes now, over HTTP. */
export function createChangeWindowRoutes(
  router: ApiRouter,
  context: ChangeWindowRouteContext,
) {
  const { httpAuth, audit, targets } = context;
  const authorizedPlan = planAuthorization(context);

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
        const plan = await authorizedPlan(
          credentials,
          deploymentsPlanReadPermission,
          req.params.id,
        );
        const target = await targets.getStored(plan.targetName);
        return changeWindowStatus(target.changeWindows, new Date());
      },
    );
    res.json(status);
  });
}
