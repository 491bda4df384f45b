import {
  BackstageCredentials,
  BackstageUserPrincipal,
} from '@backstage/backend-plugin-api';
import { ResourcePermission } from '@backstage/plugin-permission-common';
import {
  ApprovalOperationKind,
  deploymentsPlanApplyPermission,
  deploymentsPlanApprovePermission,
  deploymentsPlanReadPermission,
  deploymentsPlanRollbackPermission,
  deploymentsPlanUninstallPermission,
} from '@kubedeploy/plugin-deployments-common';
import { OperationCaller } from '../operations/changeGates';
import { PlanService } from '../plans/PlanService';
import { ApiRouter, RouteContext } from '../routes';
import { ApprovalService } from './ApprovalService';
import { planAuthorization } from '../plans/authorizePlan';

export interface ApprovalRouteContext extends RouteContext {
  plans: PlanService;
  approvals: ApprovalService;
}

/** Asking for a change to be approved needs the permission to make it. */
const REQUEST_PERMISSIONS: Record<
  ApprovalOperationKind,
  ResourcePermission<'deployments-plan'>
> = {
  apply: deploymentsPlanApplyPermission,
  rollback: deploymentsPlanRollbackPermission,
  uninstall: deploymentsPlanUninstallPermission,
};

/** Four-eyes approval requests of a plan and their decisions over HTTP. */
export function createApprovalRoutes(
  router: ApiRouter,
  context: ApprovalRouteContext,
) {
  const { httpAuth, audit, approvals } = context;

  const authorizePlan = planAuthorization(context);

  const callerOf = (
    credentials: BackstageCredentials<BackstageUserPrincipal>,
  ): OperationCaller => ({
    actor: credentials.principal.userEntityRef,
    credentials,
  });

  router.get('/plans/:id/approvals', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const page = await audit.run(
      {
        eventId: 'plan-approval-list',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        await authorizePlan(
          credentials,
          deploymentsPlanReadPermission,
          req.params.id,
        );
        return approvals.list(req.params.id, {
          limit: Math.min(req.query.limit ?? 50, 500),
          offset: req.query.offset ?? 0,
        });
      },
    );
    res.json(page);
  });

  router.post('/plans/:id/approvals', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const approval = await audit.run(
      {
        eventId: 'plan-approval-request',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
        meta: {
          kind: req.body.kind,
          rollbackRevision: req.body.rollbackRevision,
        },
      },
      async () => {
        await authorizePlan(
          credentials,
          REQUEST_PERMISSIONS[req.body.kind],
          req.params.id,
        );
        return approvals.request(
          req.params.id,
          req.body,
          callerOf(credentials),
        );
      },
      requested => ({
        approvalId: requested.id,
        planRevision: requested.planRevision,
        inputsHash: requested.inputsHash,
        dryRunOperationId: requested.dryRunOperationId,
        expiresAt: requested.expiresAt,
      }),
    );
    res.status(201).json(approval);
  });

  router.post('/plans/:id/approvals/:approvalId/decision', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const approval = await audit.run(
      {
        eventId: 'plan-approval-decision',
        severityLevel: 'high',
        request: req,
        credentials,
        subject: req.params.id,
        meta: {
          approvalId: req.params.approvalId,
          decision: req.body.decision,
        },
      },
      async () => {
        await authorizePlan(
          credentials,
          deploymentsPlanApprovePermission,
          req.params.id,
        );
        return approvals.decide(
          req.params.id,
          req.params.approvalId,
          req.body,
          callerOf(credentials),
        );
      },
      decided => ({
        kind: decided.kind,
        requestedBy: decided.requestedBy,
        planRevision: decided.planRevision,
        status: decided.status,
      }),
    );
    res.json(approval);
  });
}
