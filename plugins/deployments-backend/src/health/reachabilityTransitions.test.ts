/*
 * Target probes report a change of reachability once, at the transition,
 * not at every probe; on PostgreSQL and SQLite (the previous state is the
 * stored probe, shared by every replica).
 */
import { mockServices, TestDatabaseId } from '@backstage/backend-test-utils';
import { KeyringService } from '../keyring/KeyringService';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { TargetService } from '../targets/TargetService';
import { createPlanPrerequisites } from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { HealthService, ReachabilityListener } from './HealthService';

jest.setTimeout(60_000);

const databases = createTestDatabases();

describe.each(databases.eachSupportedId())(
  'reachability transitions (%s)',
  (databaseId: TestDatabaseId) => {
    it('reports a target going down once, and coming back once', async () => {
      const knex = await databases.init(databaseId);
      await createPlanPrerequisites(knex);
      const [target] = (await knex('deployments_targets')
        .where({ name: 'dev' })
        .select('id', 'name')) as Array<Pick<StoredTarget, 'id' | 'name'>>;
      let answers = true;
      const targets = {
        listStored: async () => [target],
        connect: async () => {
          if (!answers) throw new Error('connect ECONNREFUSED 10.0.0.1:6443');
          return {
            cluster: { getVersion: async () => ({ gitVersion: 'v1.31.0' }) },
          };
        },
      } as unknown as TargetService;
      const changes: Parameters<ReachabilityListener>[0][] = [];
      const health = HealthService.create({
        db: knex,
        keyring: {
          status: async () => ({ state: 'unlocked' }),
        } as unknown as KeyringService,
        targets,
        plans: DatabasePlanStore.create(knex),
        operations: DatabaseOperationStore.create(knex),
        logger: mockServices.logger.mock(),
        onReachabilityChange: async change => void changes.push(change),
      });

      await health.probeTargets();
      expect(changes).toEqual([]);

      answers = false;
      await health.probeTargets();
      await health.probeTargets();
      expect(changes).toEqual([
        expect.objectContaining({
          target: expect.objectContaining({ name: 'dev' }),
          reachable: false,
          error: 'connect ECONNREFUSED 10.0.0.1:6443',
        }),
      ]);

      answers = true;
      await health.probeTargets();
      await health.probeTargets();
      expect(changes.map(c => c.reachable)).toEqual([false, true]);
    });
  },
);
