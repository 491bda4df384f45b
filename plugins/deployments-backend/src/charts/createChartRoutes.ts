import {
  Chart,
  deploymentsChartDeletePermission,
  deploymentsChartReadPermission,
  deploymentsChartRegisterPermission,
} from '@kubedeploy/plugin-deployments-common';
import { ApiRouter, RouteContext } from '../routes';
import { ChartService } from './ChartService';
import { StoredChart } from './DatabaseChartStore';
import { redactReference } from './repo/parseRepositoryReference';

/** The chart catalog's HTTP surface; the rules live in ChartService. */
export function createChartRoutes(
  router: ApiRouter,
  context: RouteContext & { charts: ChartService },
) {
  const { httpAuth, authorizer, audit, charts } = context;

  router.get('/charts', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const page = await audit.run(
      {
        eventId: 'chart-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(credentials, deploymentsChartReadPermission);
        return charts.list(req.query);
      },
    );
    res.json({
      items: page.items.map(toApiChart),
      totalCount: page.totalCount,
    });
  });

  router.post('/charts', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const result = await audit.run(
      {
        eventId: 'chart-register',
        severityLevel: 'medium',
        request: req,
        credentials,
        // Never user info or a query: they may carry credentials.
        subject: redactReference(req.body.reference),
        meta: { chart: req.body.chart, version: req.body.version },
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsChartRegisterPermission,
        );
        return charts.register(req.body, credentials.principal.userEntityRef);
      },
    );
    res.status(result.created ? 201 : 200).json(toApiChart(result.chart));
  });

  router.get('/charts/versions', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const versions = await audit.run(
      {
        eventId: 'chart-versions',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(credentials, deploymentsChartReadPermission);
        return charts.listVersions(req.query.reference, req.query.chart);
      },
    );
    res.json({ versions });
  });

  router.get('/charts/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const chart = await audit.run(
      {
        eventId: 'chart-read',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(credentials, deploymentsChartReadPermission);
        return charts.get(req.params.id);
      },
    );
    res.json(toApiChart(chart));
  });

  router.delete('/charts/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    await audit.run(
      {
        eventId: 'chart-delete',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsChartDeletePermission,
        );
        await charts.delete(req.params.id);
      },
    );
    res.status(204).end();
  });
}

function toApiChart(chart: StoredChart): Chart {
  return {
    id: chart.id,
    sourceKind: chart.sourceKind,
    reference: chart.reference,
    name: chart.name,
    version: chart.version,
    chartDigest: chart.chartDigest,
    manifestDigest: chart.manifestDigest,
    appVersion: chart.metadata.appVersion,
    description: chart.metadata.description,
    kubeVersion: chart.metadata.kubeVersion,
    icon: chart.metadata.icon,
    dependencies: chart.metadata.dependencies,
    ...(chart.metadata.crds && { crds: chart.metadata.crds }),
    defaultValues: chart.defaultValues,
    valuesSchema: chart.valuesSchema,
    hasValuesSchema: Boolean(chart.valuesSchema),
    readme: chart.readme,
    archiveSize: chart.archiveSize,
    registeredAt: chart.registeredAt,
    registeredBy: chart.registeredBy,
  };
}
