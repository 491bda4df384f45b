import {
  deploymentsAdvisoryDismissPermission,
  deploymentsChartRegisterPermission,
  deploymentsPlanReadPermission,
  deploymentsPlanUpdatePermission,
} from '@kubedeploy/plugin-deployments-common';
import { NO_PLANS } from '../plans/DatabasePlanStore';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { PlanService } from '../plans/PlanService';
import { ApiRouter, RouteContext } from '../routes';
import { AdvisoryService } from './AdvisoryService';
import { planAuthorization } from '../plans/authorizePlan';

export interface AdvisoryRouteContext extends RouteContext {
  plans: PlanService;
  advisories: AdvisoryService;
}

/** Patch advisories of release plans over HTTP; reading them follows plan read. */
export function createAdvisoryRoutes(
  router: ApiRouter,
  context: AdvisoryRouteContext,
) {
  const { httpAuth, authorizer, audit, advisories } = context;

  const authorizePlan = planAuthorization(context);

  router.get('/advisories', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const overview = await audit.run(
      {
        eventId: 'advisory-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        const filter = await authorizer.queryFor(
          credentials,
          deploymentsPlanReadPermission,
          planPermissionRules,
          NO_PLANS,
        );
        return advisories.overview({
          filter,
          entityRef: req.query.entityRef,
          includeResolved: req.query.includeResolved,
        });
      },
    );
    res.json(overview);
  });

  router.get('/plans/:id/advisories', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const found = await audit.run(
      {
        eventId: 'plan-advisory-list',
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
        return advisories.forPlan(req.params.id, {
          includeResolved: req.query.includeResolved,
        });
      },
    );
    res.json(found);
  });

  router.post('/plans/:id/advisories/check', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const found = await audit.run(
      {
        eventId: 'plan-advisory-check',
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
        return advisories.checkPlan(req.params.id);
      },
    );
    res.json(found);
  });

  router.post('/plans/:id/advisories/:advisoryId/dismiss', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const advisory = await audit.run(
      {
        eventId: 'plan-advisory-dismiss',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
        meta: {
          advisoryId: req.params.advisoryId,
          reason: req.body.reason,
          until: req.body.until,
        },
      },
      async () => {
        await authorizePlan(
          credentials,
          deploymentsAdvisoryDismissPermission,
          req.params.id,
        );
        return advisories.dismiss(
          req.params.id,
          req.params.advisoryId,
          req.body,
          credentials.principal.userEntityRef,
        );
      },
      dismissed => ({
        subjectOfAdvisory: dismissed.subject,
        kind: dismissed.kind,
        running: dismissed.running,
        available: dismissed.available,
      }),
    );
    res.json(advisory);
  });

  router.post(
    '/plans/:id/advisories/:advisoryId/plan-revision',
    async (req, res) => {
      const credentials = await httpAuth.credentials(req, { allow: ['user'] });
      const plan = await audit.run(
        {
          eventId: 'plan-advisory-revision',
          severityLevel: 'medium',
          request: req,
          credentials,
          subject: req.params.id,
          meta: { advisoryId: req.params.advisoryId },
        },
        async () => {
          await authorizePlan(
            credentials,
            deploymentsPlanUpdatePermission,
            req.params.id,
          );
          // The newer version may need registering from the same source.
          await authorizer.authorize(
            credentials,
            deploymentsChartRegisterPermission,
          );
          return advisories.createChartRevision(
            req.params.id,
            req.params.advisoryId,
            {
              actor: credentials.principal.userEntityRef,
              credentials,
            },
          );
        },
        revised => ({
          planRevision: revised.revision,
          chart: `${revised.chart.name} ${revised.chart.version}`,
        }),
      );
      res.status(201).json(plan);
    },
  );
}
