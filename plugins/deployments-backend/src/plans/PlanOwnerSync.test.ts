/*
 * The recorded plan owner follows the catalog, on real PostgreSQL and SQLite.
 */
import { Entity } from '@backstage/catalog-model';
import { mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabasePlanStore } from './DatabasePlanStore';
import { PlanOwnerSync } from './PlanOwnerSync';

jest.setTimeout(120_000);

const databases = createTestDatabases();

function component(name: string, owner: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'service', owner },
  };
}

describe.each(databases.eachSupportedId())('PlanOwnerSync (%p)', databaseId => {
  it('records the catalog owner on every plan of an entity, and none once the entity is gone', async () => {
    const knex = await databases.init(databaseId);
    await createPlanPrerequisites(knex);
    const store = DatabasePlanStore.create(knex);
    const payments = component('payments', 'team-a');
    const billing = component('billing', 'group:default/team-b');
    const insert = (id: string, entityRef: string, entityOwner?: string) =>
      store.insert(storedPlan({ id, entityRef, entityOwner, releaseName: id }));
    // payments moved from team-a to team-c; one of its plans is stale and
    // one was written after the move. billing is unchanged. ledger left.
    await insert('p1', 'component:default/payments', 'group:default/team-a');
    await insert('p2', 'component:default/payments', 'group:default/team-c');
    await insert('b1', 'component:default/billing', 'group:default/team-b');
    await insert('l1', 'component:default/ledger', 'group:default/team-a');
    payments.spec!.owner = 'team-c';

    const sync = PlanOwnerSync.create({
      store,
      catalog: catalogServiceMock({ entities: [payments, billing] }),
      auth: mockServices.auth(),
      logger: mockServices.logger.mock(),
    });
    expect(await sync.syncOwners()).toEqual({
      entitiesChecked: 3,
      plansChanged: 2,
      entitiesGone: 1,
    });
    const owners = Object.fromEntries(
      await Promise.all(
        ['p1', 'p2', 'b1', 'l1'].map(async id => [
          id,
          (await store.get(id))?.entityOwner,
        ]),
      ),
    );
    expect(owners).toEqual({
      p1: 'group:default/team-c',
      p2: 'group:default/team-c',
      b1: 'group:default/team-b',
      l1: undefined,
    });
    // The owner is not an input: no new revision.
    expect((await store.get('p1'))?.revision).toBe(1);

    // Nothing to do on the next pass.
    expect(await sync.syncOwners()).toEqual({
      entitiesChecked: 3,
      plansChanged: 0,
      entitiesGone: 1,
    });
  });
});
