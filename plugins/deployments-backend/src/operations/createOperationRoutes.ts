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

  /**
   * The operation, if the caller may act on its plan (conditions included).
   * The decision comes before the lookup's outcome, so a denied caller
   * learns nothing about which operations exist.
   */
  const authorizedOperation = async (
    credentials: Parameters<typeof authorizer.authorize>[0],
    permission: typeof deploymentsPlanReadPermission,
    id: string,
  ) => {
    const operation = await operationStore.get(id);
    const plan = operation
      ? await plans.getStored(operation.planId).catch(() => undefined)
      : undefined;
    await authorizer.authorizeLoaded(
      credentials,
      permission,
      plan,
      planPermissionRules,
      `Operation ${id}`,
    );
    // A plan was found, so was its operation.
    return operation!;
  };

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
        return authorizedOperation(
          credentials,
          deploymentsPlanReadPermission,
          req.params.id,
        );
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
        const found = await authorizedOperation(
          credentials,
          deploymentsPlanReadPermission,
          req.params.id,
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
        const found = await authorizedOperation(
          credentials,
          deploymentsPlanApplyPermission,
          req.params.id,
        );
        return runner.cancel(found.id);
      },
    );
    res.status(202).json(toApiOperation(operation));
  });
}
