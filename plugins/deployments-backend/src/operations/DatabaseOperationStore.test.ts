/*
 * Operations across plans on real PostgreSQL and SQLite: newest first, paged
 * by key, filtered by status, kind, target and the plan read conditions.
 */
import { Knex } from 'knex';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { DatabaseOperationStore } from './DatabaseOperationStore';
import { listOperations } from './listOperations';

jest.setTimeout(120_000);

const databases = createTestDatabases();

async function seed(knex: Knex): Promise<DatabaseOperationStore> {
  await createPlanPrerequisites(knex);
  const plans = DatabasePlanStore.create(knex);
  await plans.insert(
    storedPlan({
      id: 'dev-plan',
      entityRef: 'component:default/a',
      releaseName: 'a',
    }),
  );
  await plans.insert(
    storedPlan({
      id: 'prod-plan',
      entityRef: 'component:default/b',
      releaseName: 'b',
      targetId: 'target-prod',
      targetName: 'prod',
    }),
  );
  // Twelve operations a minute apart, alternating plans, kinds and
  // outcomes; the last one belongs to a plan that was deleted since.
  const kinds = ['dry-run', 'preflight', 'apply'] as const;
  for (let i = 0; i < 12; i++) {
    let plan = i % 2 === 0 ? 'dev-plan' : 'prod-plan';
    if (i === 11) plan = 'gone-plan';
    await knex('deployments_operations').insert({
      id: `op-${String(i).padStart(2, '0')}`,
      plan_id: plan,
      plan_revision: 1,
      kind: kinds[i % 3],
      status: i % 4 === 3 ? 'failed' : 'succeeded',
      actor: 'user:default/test',
      target_id: plan === 'prod-plan' ? 'target-prod' : 'target-dev',
      target_name: plan === 'prod-plan' ? 'prod' : 'dev',
      namespace: 'team-a',
      release_name: plan === 'prod-plan' ? 'b' : 'a',
      result: JSON.stringify({ objects: [] }),
      runner_id: 'runner',
      heartbeat_at: '2026-11-23T10:00:00.000Z',
      created_at: `2026-11-23T10:${String(i).padStart(2, '0')}:00.000Z`,
    });
  }
  return DatabaseOperationStore.create(knex);
}

describe.each(databases.eachSupportedId())(
  'DatabaseOperationStore.list (%p)',
  databaseId => {
    it('pages newest first by key and filters by status, kind, target and plan conditions', async () => {
      const store = await seed(await databases.init(databaseId));

      // Three pages of five, five and two, in one newest-first order.
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await listOperations(store, { limit: 5, after });
        seen.push(...page.items.map(op => op.id));
        after = page.nextCursor;
      } while (after);
      expect(seen).toEqual(
        Array.from(
          { length: 12 },
          (_, i) => `op-${String(11 - i).padStart(2, '0')}`,
        ),
      );

      const first = await listOperations(store, { limit: 2 });
      expect(first.items[0]).toMatchObject({
        id: 'op-11',
        entityRef: undefined, // its plan is gone; the record stays
        result: undefined, // lists leave results out
      });
      expect(first.items[1]).toMatchObject({
        id: 'op-10',
        entityRef: 'component:default/a',
        target: 'dev',
      });

      const failedApplies = await listOperations(store, {
        status: 'failed',
        kind: 'apply',
      });
      expect(failedApplies.items.map(op => op.id)).toEqual(['op-11']);
      const prod = await listOperations(store, { target: 'prod' });
      expect(prod.items).toHaveLength(5);

      // A policy that allows reading dev plans only: prod and the orphan go.
      const allowed = await listOperations(store, {
        planFilter: { targetNames: ['dev'] },
      });
      expect(allowed.items.map(op => op.id)).toEqual([
        'op-10',
        'op-08',
        'op-06',
        'op-04',
        'op-02',
        'op-00',
      ]);
      const none = await listOperations(store, {
        planFilter: {
          not: { anyOf: [{ targetNames: ['dev'] }, { targetNames: ['prod'] }] },
        },
      });
      expect(none.items).toEqual([]);

      await expect(
        listOperations(store, { after: 'not-a-cursor' }),
      ).rejects.toThrow('The cursor is not one this API returned');
    });
  },
);
