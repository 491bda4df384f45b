/*
 * The plugin's metrics through Backstage's metrics service (its mock records
 * every instrument call): finished operations by kind and outcome, refusals
 * of a busy release, and the gauges read from the real helm slots, log
 * stream limiter, keyring and probe table (PostgreSQL and SQLite).
 */
import { mockServices } from '@backstage/backend-test-utils';
import { metricsServiceMock } from '@backstage/backend-test-utils/alpha';
import { Knex } from 'knex';
import { LogStreamLimiter } from '../cluster/LogStreamLimiter';
import { HealthService } from '../health/HealthService';
import { HelmSlots } from '../helm/HelmSlots';
import { DatabaseKeyringStore } from '../keyring/DatabaseKeyringStore';
import { KeyringService } from '../keyring/KeyringService';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import {
  OperationOutcome,
  OperationRunner,
} from '../operations/OperationRunner';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { SecretsService } from '../secrets/SecretsService';
import { DatabaseTargetStore } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DeploymentsMetrics } from './DeploymentsMetrics';

jest.setTimeout(120_000);

const databases = createTestDatabases();

type MetricsMock = ReturnType<typeof metricsServiceMock.mock>;
type Observation = { value: number; attributes?: Record<string, unknown> };

/** The instrument the code under test created under `name`. */
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

/** What a collection of the gauge `name` would export now. */
async function collect(
  mock: MetricsMock,
  name: string,
): Promise<Observation[]> {
  const gauge = instrument(mock, 'createObservableGauge', name);
  const observations: Observation[] = [];
  for (const [callback] of gauge.addCallback.mock.calls) {
    await callback({
      observe: (value: number, attributes?: Record<string, unknown>) =>
        observations.push({ value, attributes }),
    });
  }
  return observations;
}

describe.each(databases.eachSupportedId())(
  'DeploymentsMetrics (%p)',
  databaseId => {
    let knex: Knex;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
      await createPlanPrerequisites(knex);
      await DatabasePlanStore.create(knex).insert(
        storedPlan({
          id: 'plan',
          entityRef: 'component:default/a',
          releaseName: 'a',
        }),
      );
    });

    it('counts finished operations by kind and outcome, and refusals of a busy release', async () => {
      const metrics = metricsServiceMock.mock();
      const deploymentsMetrics = DeploymentsMetrics.create({
        metrics,
        logger: mockServices.logger.mock(),
      });
      const runner = OperationRunner.create({
        store: DatabaseOperationStore.create(knex),
        logger: mockServices.logger.mock(),
        onRefused: kind => deploymentsMetrics.operationRefused(kind),
      });
      let finish!: (outcome: OperationOutcome) => void;
      const start = (kind: 'apply' | 'dry-run') =>
        runner.start({
          planId: 'plan',
          planRevision: 1,
          kind,
          actor: 'user:default/test',
          targetId: 'target-dev',
          targetName: 'dev',
          namespace: 'team-a',
          releaseName: 'a',
          execute: () =>
            new Promise<OperationOutcome>(resolve => {
              finish = resolve;
            }),
          // As the plugin's onFinished does, beside the audit.
          onFinished: async operation =>
            deploymentsMetrics.operationFinished(operation),
        });

      const apply = await start('apply');
      await expect(start('dry-run')).rejects.toMatchObject({
        name: 'ConflictError',
      });
      const refused = instrument(
        metrics,
        'createCounter',
        'deployments.operations.refused.total',
      );
      expect(refused.add.mock.calls).toEqual([[1, { kind: 'dry-run' }]]);

      finish({ status: 'succeeded' });
      await runner.settled(apply.id);
      const failed = await start('dry-run');
      finish({ status: 'failed', error: 'the chart did not render' });
      await runner.settled(failed.id);

      const total = instrument(
        metrics,
        'createCounter',
        'deployments.operations.total',
      );
      expect(total.add.mock.calls).toEqual([
        [1, { kind: 'apply', outcome: 'succeeded' }],
        [1, { kind: 'dry-run', outcome: 'failed' }],
      ]);
      const durations = instrument(
        metrics,
        'createHistogram',
        'deployments.operations.duration',
      );
      expect(durations.record.mock.calls).toEqual([
        [expect.any(Number), { kind: 'apply', outcome: 'succeeded' }],
        [expect.any(Number), { kind: 'dry-run', outcome: 'failed' }],
      ]);
      for (const [seconds] of durations.record.mock.calls) {
        expect(seconds).toBeGreaterThanOrEqual(0);
        expect(seconds).toBeLessThan(60);
      }
      expect(metrics.createHistogram).toHaveBeenCalledWith(
        'deployments.operations.duration',
        expect.objectContaining({ unit: 's' }),
      );
    });

    it('reports the helm queue, log streams, keyring state and target reachability', async () => {
      const metrics = metricsServiceMock.mock();
      const deploymentsMetrics = DeploymentsMetrics.create({
        metrics,
        logger: mockServices.logger.mock(),
        cacheMs: 0,
      });
      const logger = mockServices.logger.mock();
      const keyring = KeyringService.create({
        store: DatabaseKeyringStore.create(knex),
        logger,
      });
      const targets = TargetService.create({
        store: DatabaseTargetStore.create(knex),
        secrets: SecretsService.create({ keyring }),
      });
      const health = HealthService.create({
        db: knex,
        keyring,
        targets,
        plans: DatabasePlanStore.create(knex),
        operations: DatabaseOperationStore.create(knex),
        logger,
      });
      const slots = HelmSlots.create({ max: 1 });
      let helmStarted = false;
      const logStreams = LogStreamLimiter.create();
      deploymentsMetrics.observe({
        helm: () => (helmStarted ? slots.usage : undefined),
        logStreams: () => logStreams.activeStreams(),
        keyringState: async () => (await keyring.status()).state,
        reachability: () => health.reachability(),
      });

      // Nothing started, nothing probed, no keyring yet.
      expect(await collect(metrics, 'deployments.helm.queue.length')).toEqual([
        { value: 0, attributes: undefined },
      ]);
      expect(await collect(metrics, 'deployments.targets.reachable')).toEqual(
        [],
      );
      expect(await collect(metrics, 'deployments.keyring.state')).toEqual([
        { value: 1, attributes: { state: 'uninitialized' } },
        { value: 0, attributes: { state: 'sealed' } },
        { value: 0, attributes: { state: 'unlocked' } },
      ]);

      helmStarted = true;
      const release = await slots.acquire();
      const queued = slots.acquire();
      logStreams.acquire('user:default/alice');
      logStreams.acquire('user:default/bob');
      await knex('deployments_target_health').insert([
        {
          target_id: 'target-dev',
          checked_at: new Date().toISOString(),
          reachable: true,
        },
        {
          target_id: 'target-prod',
          checked_at: new Date().toISOString(),
          reachable: false,
          error: 'connect ECONNREFUSED',
        },
      ]);

      expect(await collect(metrics, 'deployments.helm.queue.length')).toEqual([
        { value: 1, attributes: undefined },
      ]);
      expect(
        await collect(metrics, 'deployments.helm.processes.running'),
      ).toEqual([{ value: 1, attributes: undefined }]);
      expect(await collect(metrics, 'deployments.logs.streams.active')).toEqual(
        [{ value: 2, attributes: undefined }],
      );
      expect(
        (await collect(metrics, 'deployments.targets.reachable')).sort((a, b) =>
          String(a.attributes?.target).localeCompare(
            String(b.attributes?.target),
          ),
        ),
      ).toEqual([
        { value: 1, attributes: { target: 'dev' } },
        { value: 0, attributes: { target: 'prod' } },
      ]);

      release!();
      (await queued)!();
      expect(await collect(metrics, 'deployments.helm.queue.length')).toEqual([
        { value: 0, attributes: undefined },
      ]);
    });
  },
);

it('reads the keyring and the probes at most once per cache period', async () => {
  const metrics = metricsServiceMock.mock();
  const keyringState = jest.fn(async () => 'unlocked' as const);
  const reachability = jest.fn(async () => []);
  DeploymentsMetrics.create({
    metrics,
    logger: mockServices.logger.mock(),
    cacheMs: 60_000,
  }).observe({
    helm: () => undefined,
    logStreams: () => 0,
    keyringState,
    reachability,
  });
  for (let i = 0; i < 3; i++) {
    await collect(metrics, 'deployments.keyring.state');
    await collect(metrics, 'deployments.targets.reachable');
  }
  expect(keyringState).toHaveBeenCalledTimes(1);
  expect(reachability).toHaveBeenCalledTimes(1);
  expect(await collect(metrics, 'deployments.keyring.state')).toEqual([
    { value: 0, attributes: { state: 'uninitialized' } },
    { value: 0, attributes: { state: 'sealed' } },
    { value: 1, attributes: { state: 'unlocked' } },
  ]);
});
