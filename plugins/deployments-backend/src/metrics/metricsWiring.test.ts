/*
 * The plugin's metrics as the plugin wires them, through Backstage's own
 * metrics service into a real OpenTelemetry SDK meter provider, against the
 * local stack's kube-apiserver, helm and registry on PostgreSQL: a dry-run
 * through the API is counted by kind and outcome where the audit records it,
 * a second one on the busy release is counted as refused, and the gauges
 * report helm, log streams, the keyring and the probed target.
 */
import {
  SchedulerService,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { metrics as otelMetrics } from '@opentelemetry/api';
import {
  DataPoint,
  Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(300_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';

/** Collects when asked, like a Prometheus scrape does. */
class OnDemandReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

const reader = new OnDemandReader();
const provider = new MeterProvider({ readers: [reader] });
otelMetrics.setGlobalMeterProvider(provider);
afterAll(() => provider.shutdown());

/** The data points of one of the plugin's instruments, as an exporter sees them. */
async function collect<T = number>(name: string) {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw errors[0];
  const metric = resourceMetrics.scopeMetrics
    .filter(scope => scope.scope.name === 'backstage-plugin-deployments')
    .flatMap(scope => scope.metrics)
    .find(m => m.descriptor.name === name);
  if (!metric) throw new Error(`No metric '${name}' was exported`);
  return {
    unit: metric.descriptor.unit,
    points: (metric.dataPoints as DataPoint<T>[]).map(point => ({
      value: point.value,
      attributes: point.attributes,
    })),
  };
}

const scheduler = mockServices.scheduler();

it('counts what the plugin does and reports its state', async () => {
  const knex = await databases.init(databases.eachSupportedId()[0][0]);
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      metricsServiceFactory,
      mockServices.database.factory({ knex }),
      (
        scheduler as unknown as {
          factory(): ServiceFactory<SchedulerService, 'plugin'>;
        }
      ).factory(),
      mockServices.rootConfig.factory({
        data: {
          deployments: {
            registries: { allowLoopback: true },
            operations: { heartbeatSeconds: 1 },
          },
        },
      }),
      catalogServiceMock.factory({
        entities: [
          {
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Component',
            metadata: { name: 'payments-api', namespace: 'default' },
            spec: { type: 'service', lifecycle: 'production', owner: 'x' },
          },
        ],
      }),
    ],
  });

  // Before anything: no keyring, helm not started, nothing probed.
  expect((await collect('deployments.keyring.state')).points).toContainEqual({
    value: 1,
    attributes: { state: 'uninitialized' },
  });
  expect(await collect('deployments.helm.processes.running')).toEqual({
    unit: '{process}',
    points: [{ value: 0, attributes: {} }],
  });

  expect(
    (
      await request(server)
        .post(`${API}/keyring/bootstrap`)
        .send({ passphrase: 'correct horse battery staple 42' })
    ).status,
  ).toBe(201);
  expect(
    (
      await request(server)
        .post(`${API}/targets`)
        .send({
          name: 'local',
          allowedNamespaces: ['team-a'],
          credentials: {
            authKind: 'kubeconfig',
            kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
          },
        })
    ).status,
  ).toBe(201);
  const chart = await request(server)
    .post(`${API}/charts`)
    .send({
      reference: `oci://${stack.registry}/charts/hello`,
      version: '0.1.0',
    });
  expect(chart.status).toBe(201);
  const plan = await request(server)
    .post(`${API}/plans`)
    .send({
      entityRef: 'component:default/payments-api',
      chartId: chart.body.id,
      target: 'local',
      namespace: 'team-a',
      releaseName: `t-metrics-${randomBytes(3).toString('hex')}`,
      options: { timeoutSeconds: 120 },
    });
  expect(plan.status).toBe(201);

  // Two dry-runs of one release at once: one runs, the other is refused.
  const started = await Promise.all(
    [0, 1].map(() =>
      request(server).post(`${API}/plans/${plan.body.id}/dry-run`).send({}),
    ),
  );
  expect(started.map(r => r.status).sort()).toEqual([202, 409]);
  const operationId = started.find(r => r.status === 202)!.body.id;
  let operation: { status: string } = { status: 'running' };
  for (let i = 0; i < 240 && operation.status === 'running'; i++) {
    await new Promise(resolve => setTimeout(resolve, 500));
    operation = (await request(server).get(`${API}/operations/${operationId}`))
      .body;
  }
  expect(operation.status).toBe('succeeded');

  expect(await collect('deployments.operations.refused.total')).toEqual({
    unit: '{operation}',
    points: [{ value: 1, attributes: { kind: 'dry-run' } }],
  });
  expect(await collect('deployments.operations.total')).toEqual({
    unit: '{operation}',
    points: [
      { value: 1, attributes: { kind: 'dry-run', outcome: 'succeeded' } },
    ],
  });
  const durations = await collect<Histogram>('deployments.operations.duration');
  expect(durations.unit).toBe('s');
  expect(durations.points).toEqual([
    {
      value: expect.objectContaining({ count: 1, sum: expect.any(Number) }),
      attributes: { kind: 'dry-run', outcome: 'succeeded' },
    },
  ]);
  // The buckets are ours, not the SDK's millisecond defaults.
  expect(durations.points[0].value.buckets.boundaries.slice(0, 3)).toEqual([
    0.5, 1, 2.5,
  ]);
  // Every helm run of the dry-run found a free slot (one run per helm call).
  const slotWaits = await collect<Histogram>('deployments.helm.queue.wait');
  expect(slotWaits.unit).toBe('s');
  expect(slotWaits.points).toHaveLength(1);
  expect(slotWaits.points[0].value.count).toBeGreaterThanOrEqual(1);
  expect(slotWaits.points[0].value.max).toBeLessThan(1);

  await scheduler.triggerTask('deployments-probe-targets');
  // Every collection runs every gauge, and the database reads behind the
  // keyring and reachability gauges are shared for 5 s.
  await new Promise(resolve => setTimeout(resolve, 5_100));
  expect((await collect('deployments.targets.reachable')).points).toEqual([
    { value: 1, attributes: { target: 'local' } },
  ]);
  expect((await collect('deployments.keyring.state')).points).toEqual([
    { value: 0, attributes: { state: 'uninitialized' } },
    { value: 0, attributes: { state: 'sealed' } },
    { value: 1, attributes: { state: 'unlocked' } },
  ]);
  expect((await collect('deployments.helm.queue.length')).points).toEqual([
    { value: 0, attributes: {} },
  ]);
  expect((await collect('deployments.logs.streams.active')).points).toEqual([
    { value: 0, attributes: {} },
  ]);
});
