import {
  deploymentsPlanApplyPermission,
  deploymentsPlanCreatePermission,
  deploymentsPlanDeletePermission,
  deploymentsPlanDryRunPermission,
  deploymentsPlanLogsPermission,
  deploymentsPlanReadPermission,
  deploymentsPlanRollbackPermission,
  deploymentsPlanUninstallPermission,
  deploymentsPlanUpdatePermission,
} from '@kubedeploy/plugin-deployments-common';
import { ResourcePermission } from '@backstage/plugin-permission-common';
import { PlanOperationService } from '../operations/PlanOperationService';
import { OperationCaller } from '../operations/changeGates';
import { ReleaseInspector } from '../operations/ReleaseInspector';
import { ReleaseSyncReader } from '../operations/ReleaseSyncReader';
import { ReleaseRevisionReader } from '../releaseHistory/ReleaseRevisionReader';
import { toApiOperation } from '../operations/OperationRunner';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { ApiRouter, RouteContext } from '../routes';
import { NO_PLANS } from './DatabasePlanStore';
import { PlanService } from './PlanService';
import { planAuthorization } from './authorizePlan';

export interface PlanRouteContext extends RouteContext {
  plans: PlanService;
  planOperations: PlanOperationService;
  releases: ReleaseInspector;
  releaseRevisions: ReleaseRevisionReader;
  releaseSync: ReleaseSyncReader;
  operationStore: DatabaseOperationStore;
}

/** Release plans, their workflow operations and their release views over HTTP. */
export function createPlanRoutes(router: ApiRouter, context: PlanRouteContext) {
  const {
    httpAuth,
    authorizer,
    audit,
    plans,
    planOperations,
    releases,
    releaseSync,
    releaseRevisions,
  } = context;

  const authorizedPlan = planAuthorization(context);

  router.get('/plans', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const page = await audit.run(
      {
        eventId: 'plan-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        // Plans can be many: the conditions become SQL, not an in-memory filter.
        const filter = await authorizer.queryFor(
          credentials,
          deploymentsPlanReadPermission,
          planPermissionRules,
          NO_PLANS,
        );
        return plans.list({ ...req.query, filter });
      },
    );
    res.json(page);
  });

  router.post('/plans', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const plan = await audit.run(
      {
        eventId: 'plan-create',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.body.releaseName,
        meta: {
          entityRef: req.body.entityRef,
          target: req.body.target,
          namespace: req.body.namespace,
        },
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsPlanCreatePermission,
        );
        return plans.create(
          req.body,
          credentials.principal.userEntityRef,
          credentials,
        );
      },
    );
    res.status(201).json(plan);
  });

  router.get('/plans/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const plan = await audit.run(
      {
        eventId: 'plan-read',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () =>
        plans.toApi(
          await authorizedPlan(
            credentials,
            deploymentsPlanReadPermission,
            req.params.id,
          ),
        ),
    );
    res.json(plan);
  });

  router.put('/plans/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const plan = await audit.run(
      {
        eventId: 'plan-update',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
        meta: { fields: Object.keys(req.body) },
      },
      async () => {
        await authorizedPlan(
          credentials,
          deploymentsPlanUpdatePermission,
          req.params.id,
        );
        return plans.update(
          req.params.id,
          req.body,
          credentials.principal.userEntityRef,
          credentials,
        );
      },
    );
    res.json(plan);
  });

  router.delete('/plans/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    await audit.run(
      {
        eventId: 'plan-delete',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
      },
      async () => {
        await authorizedPlan(
          credentials,
          deploymentsPlanDeletePermission,
          req.params.id,
        );
        await plans.delete(req.params.id);
      },
    );
    res.status(204).end();
  });

  const operationRoute = (
    path:
      | '/plans/:id/dry-run'
      | '/plans/:id/preflight'
      | '/plans/:id/apply'
      | '/plans/:id/rollback'
      | '/plans/:id/uninstall',
    eventId: string,
    permission: ResourcePermission<'deployments-plan'>,
    severityLevel: 'medium' | 'high',
    start: (
      planId: string,
      caller: OperationCaller,
      body: Record<string, unknown>,
    ) => ReturnType<PlanOperationService['dryRun']>,
  ) => {
    router.post(path, async (req, res) => {
      const credentials = await httpAuth.credentials(req, { allow: ['user'] });
      const operation = await audit.run(
        {
          eventId,
          severityLevel,
          request: req,
          credentials,
          subject: req.params.id,
          meta: { body: req.body ?? {} },
        },
        async () => {
          await authorizedPlan(credentials, permission, req.params.id);
          const body = (req.body ?? {}) as Record<string, unknown>;
          return start(
            req.params.id,
            {
              actor: credentials.principal.userEntityRef,
              credentials,
              overrideReason:
                typeof body.overrideReason === 'string'
                  ? body.overrideReason
                  : undefined,
            },
            body,
          );
        },
        // The release by name: the trail lists it, not the plan's id.
        started => ({
          operationId: started.id,
          inputsHash: started.inputsHash,
          releaseName: started.releaseName,
        }),
      );
      res.status(202).json(toApiOperation(operation));
    });
  };

  operationRoute(
    '/plans/:id/dry-run',
    'plan-dry-run',
    deploymentsPlanDryRunPermission,
    'medium',
    (id, caller) => planOperations.dryRun(id, caller),
  );
  operationRoute(
    '/plans/:id/preflight',
    'plan-preflight',
    deploymentsPlanDryRunPermission,
    'medium',
    (id, caller) => planOperations.preflight(id, caller),
  );
  operationRoute(
    '/plans/:id/apply',
    'plan-apply',
    deploymentsPlanApplyPermission,
    'high',
    (id, caller) => planOperations.apply(id, caller),
  );
  operationRoute(
    '/plans/:id/rollback',
    'plan-rollback',
    deploymentsPlanRollbackPermission,
    'high',
    (id, caller, body) =>
      planOperations.rollback(
        id,
        typeof body.revision === 'number' ? body.revision : undefined,
        caller,
      ),
  );
  operationRoute(
    '/plans/:id/uninstall',
    'plan-uninstall',
    deploymentsPlanUninstallPermission,
    'high',
    (id, caller, body) =>
      planOperations.uninstall(
        id,
        String(body.confirmReleaseName ?? ''),
        caller,
      ),
  );

  router.get('/plans/:id/operations', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const page = await audit.run(
      {
        eventId: 'plan-operations',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        await authorizedPlan(
          credentials,
          deploymentsPlanReadPermission,
          req.params.id,
        );
        return context.operationStore.listForPlan(req.params.id, {
          limit: Math.min(req.query.limit ?? 50, 500),
          offset: req.query.offset ?? 0,
        });
      },
    );
    res.json({
      items: page.items.map(toApiOperation),
      totalCount: page.totalCount,
    });
  });

  router.get('/plans/:id/resources', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const resources = await audit.run(
      {
        eventId: 'plan-resources',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () =>
        releases.resources(
          await authorizedPlan(
            credentials,
            deploymentsPlanReadPermission,
            req.params.id,
          ),
        ),
    );
    res.json(resources);
  });

  router.get('/plans/:id/resources/object', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { kind, name, apiVersion } = req.query;
    const detail = await audit.run(
      {
        eventId: 'plan-resource-object',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
        meta: { kind, name },
      },
      async () =>
        releases.object(
          await authorizedPlan(
            credentials,
            deploymentsPlanReadPermission,
            req.params.id,
          ),
          { kind, name, ...(apiVersion !== undefined && { apiVersion }) },
        ),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.json(detail);
  });

  router.get('/plans/:id/history', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await audit.run(
      {
        eventId: 'plan-history',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () =>
        releaseRevisions.history(
          await authorizedPlan(
            credentials,
            deploymentsPlanReadPermission,
            req.params.id,
          ),
        ),
    );
    res.json({ items });
  });

  router.get('/plans/:id/history/diff', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { fromRevision, toRevision } = req.query;
    const diff = await audit.run(
      {
        eventId: 'plan-history-diff',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
        meta: { fromRevision, toRevision },
      },
      async () =>
        releaseRevisions.diff(
          await authorizedPlan(
            credentials,
            deploymentsPlanReadPermission,
            req.params.id,
          ),
          fromRevision,
          toRevision,
        ),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.json(diff);
  });

  router.get('/plans/:id/sync', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const state = await audit.run(
      {
        eventId: 'plan-sync',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () =>
        releaseSync.read(
          await authorizedPlan(
            credentials,
            deploymentsPlanReadPermission,
            req.params.id,
          ),
        ),
    );
    res.json(state);
  });

  router.get('/plans/:id/pods', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await audit.run(
      {
        eventId: 'plan-pods',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () =>
        releases.pods(
          await authorizedPlan(
            credentials,
            deploymentsPlanLogsPermission,
            req.params.id,
          ),
        ),
    );
    res.json({ items });
  });

  router.get('/plans/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const query = req.query;
    // A client that goes away closes the stream to the API server too.
    const disconnected = new AbortController();
    res.on('close', () => disconnected.abort());
    const output = await audit.run(
      {
        eventId: 'plan-logs',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
        meta: {
          pod: query.pod,
          container: query.container,
          previous: query.previous,
          follow: query.follow,
        },
      },
      async () => {
        const plan = await authorizedPlan(
          credentials,
          deploymentsPlanLogsPermission,
          req.params.id,
        );
        return query.follow
          ? releases.followLogs(
              plan,
              query,
              credentials.principal.userEntityRef,
              disconnected.signal,
            )
          : releases.logs(plan, query);
      },
    );
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (typeof output === 'string') {
      res.setHeader('Cache-Control', 'no-store');
      res.send(output);
      return;
    }
    // A followed log must reach the browser line by line. The backend's
    // compression middleware holds small writes back until it has a block
    // to compress, unless told not to transform; proxies honour the same
    // header and X-Accel-Buffering.
    res.setHeader('Cache-Control', 'no-store, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // The API server closed the stream, went away or stopped answering: the
    // client is told so in a last line, not left with an end that reads
    // like the log's.
    output.on('error', error => {
      output.unpipe(res);
      res.end(`\n[log stream interrupted: ${error.message}]\n`);
    });
    // A client that goes away must end the stream, which frees its slot.
    res.on('close', () => output.destroy());
    output.pipe(res);
  });
}
