/*
 * The plugin's metrics as the plugin wires them, against the local stack's
 * kube-apiserver, helm and registry on PostgreSQL: a dry-run through the API
 * is counted by kind and outcome where the audit records it, a second one on
 * the busy release is counted as refused, and the gauges report helm, log
 * streams, the keyring and the probed target.
 */
import {
  SchedulerService,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { metricsServiceMock } from '@backstage/backend-test-utils/alpha';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
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

type MetricsMock = ReturnType<typeof metricsServiceMock.mock>;

function instrument(
  mock: MetricsMock,
  factory: 'createCounter' | 'createHistogram' | 'createObservableGauge',
  name: string,
): any {
  const index = mock[factory].mock.calls.findIndex(
    ([created]) => created === name,
  );
  if (index < 0) throw new Error(`No ${factory}('${name}')`);
  return mock[factory].mock.results[index].value;
}

async function collect(mock: MetricsMock, name: string) {
  const observations: Array<{ value: number; attributes?: object }> = [];
  const gauge = instrument(mock, 'createObservableGauge', name);
  for (const [callback] of gauge.addCallback.mock.calls) {
    await callback({
      observe: (value: number, attributes?: object) =>
        observations.push({ value, attributes }),
    });
  }
  return observations;
}

const scheduler = mockServices.scheduler();

it('counts what the plugin does and reports its state', async () => {
  const metrics = metricsServiceMock.mock();
  const knex = await databases.init(databases.eachSupportedId()[0][0]);
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      metrics.factory,
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
  expect(await collect(metrics, 'deployments.keyring.state')).toContainEqual({
    value: 1,
    attributes: { state: 'uninitialized' },
  });
  expect(await collect(metrics, 'deployments.helm.processes.running')).toEqual([
    { value: 0, attributes: undefined },
  ]);

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

  expect(
    instrument(metrics, 'createCounter', 'deployments.operations.refused.total')
      .add.mock.calls,
  ).toEqual([[1, { kind: 'dry-run' }]]);
  expect(
    instrument(metrics, 'createCounter', 'deployments.operations.total').add
      .mock.calls,
  ).toEqual([[1, { kind: 'dry-run', outcome: 'succeeded' }]]);
  expect(
    instrument(metrics, 'createHistogram', 'deployments.operations.duration')
      .record.mock.calls,
  ).toEqual([[expect.any(Number), { kind: 'dry-run', outcome: 'succeeded' }]]);

  await scheduler.triggerTask('deployments-probe-targets');
  expect(await collect(metrics, 'deployments.targets.reachable')).toEqual([
    { value: 1, attributes: { target: 'local' } },
  ]);
  // The keyring read is cached for 5 s; the bootstrap was before that.
  await new Promise(resolve => setTimeout(resolve, 5_100));
  expect(await collect(metrics, 'deployments.keyring.state')).toEqual([
    { value: 0, attributes: { state: 'uninitialized' } },
    { value: 0, attributes: { state: 'sealed' } },
    { value: 1, attributes: { state: 'unlocked' } },
  ]);
  expect(await collect(metrics, 'deployments.helm.queue.length')).toEqual([
    { value: 0, attributes: undefined },
  ]);
  expect(await collect(metrics, 'deployments.logs.streams.active')).toEqual([
    { value: 0, attributes: undefined },
  ]);
});
