import {
  deploymentsPlanApplyPermission,
  deploymentsPlanReadPermission,
} from '@kubedeploy/plugin-deployments-common';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { NO_PLANS } from '../plans/DatabasePlanStore';
import { PlanService } from '../plans/PlanService';
import { ApiRouter, RouteContext } from '../routes';
import { OperationRunner, toApiOperation } from './OperationRunner';
import { DatabaseOperationStore } from './DatabaseOperationStore';
import { listOperations } from './listOperations';

/**
 * Following and cancelling operations. Access follows the plan: reading an
 * operation needs plan read, cancelling it needs plan apply.
 */
export function createOperationRoutes(
  router: ApiRouter,
  context: RouteContext & {
    runner: OperationRunner;
    operationStore: DatabaseOperationStore;
    plans: PlanService;
  },
) {
  const { httpAuth, authorizer, audit, runner, operationStore, plans } =
    context;

  /** Access to an operation follows its plan (conditions included). */
  const authorizeFor = async (
    credentials: Parameters<typeof authorizer.authorize>[0],
    permission: typeof deploymentsPlanReadPermission,
    planId: string,
  ) =>
    authorizer.authorizeLoaded(
      credentials,
      permission,
      await plans.getStored(planId).catch(() => undefined),
      planPermissionRules,
      `Release plan ${planId}`,
    );

  router.get('/operations', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const page = await audit.run(
      {
        eventId: 'operation-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        // Operations follow their plans: the plan read conditions become SQL.
        const planFilter = await authorizer.queryFor(
          credentials,
          deploymentsPlanReadPermission,
          planPermissionRules,
          NO_PLANS,
        );
        return listOperations(operationStore, { ...req.query, planFilter });
      },
    );
    res.json(page);
  });

  router.get('/operations/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const operation = await audit.run(
      {
        eventId: 'operation-read',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        const found = await runner.get(req.params.id);
        await authorizeFor(
          credentials,
          deploymentsPlanReadPermission,
          found.planId,
        );
        return found;
      },
    );
    res.json(toApiOperation(operation));
  });

  router.get('/operations/:id/lines', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await audit.run(
      {
        eventId: 'operation-lines',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        const found = await runner.get(req.params.id);
        await authorizeFor(
          credentials,
          deploymentsPlanReadPermission,
          found.planId,
        );
        return operationStore.linesAfter(
          found.id,
          req.query.after ?? 0,
          Math.min(req.query.limit ?? 500, 500),
        );
      },
    );
    res.json({ items });
  });

  router.post('/operations/:id/cancel', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const operation = await audit.run(
      {
        eventId: 'operation-cancel',
        severityLevel: 'high',
        request: req,
        credentials,
        subject: req.params.id,
      },
      async () => {
        const found = await runner.get(req.params.id);
        await authorizeFor(
          credentials,
          deploymentsPlanApplyPermission,
          found.planId,
        );
        return runner.cancel(found.id);
      },
    );
    res.status(202).json(toApiOperation(operation));
  });
}
