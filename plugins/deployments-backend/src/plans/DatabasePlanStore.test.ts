/*
 * Plan listing on real PostgreSQL and SQLite: keyset pages match offset
 * pages, and permission filter trees become SQL.
 */
import { Knex } from 'knex';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { DatabasePlanStore } from './DatabasePlanStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

async function seed(knex: Knex, count: number): Promise<DatabasePlanStore> {
  await createPlanPrerequisites(knex);
  const store = DatabasePlanStore.create(knex);
  for (let i = 0; i < count; i++) {
    const target = i % 3 === 0 ? 'prod' : 'dev';
    await store.insert(
      storedPlan({
        id: `plan-${String(i).padStart(4, '0')}`,
        entityRef: `component:default/app-${i % 7}`,
        entityOwner: i % 2 === 0 ? 'group:default/a' : 'group:default/b',
        targetId: `target-${target}`,
        targetName: target,
        namespace: i % 5 === 0 ? 'team-b' : 'team-a',
        releaseName: `r-${i}`,
      }),
    );
  }
  return store;
}

describe.each(databases.eachSupportedId())(
  'DatabasePlanStore (%p)',
  databaseId => {
    it('pages by key exactly as by offset, and filters by permission trees in SQL', async () => {
      const store = await seed(await databases.init(databaseId), 130);

      const byOffset: string[] = [];
      for (let offset = 0; offset < 130; offset += 40) {
        byOffset.push(
          ...(await store.list({ limit: 40, offset })).items.map(p => p.id),
        );
      }
      const byKey: string[] = [];
      let after;
      for (;;) {
        const page = await store.list({ limit: 40, offset: 0, after });
        byKey.push(...page.items.map(p => p.id));
        expect(page.totalCount).toBe(130);
        if (page.items.length < 40) break;
        const last = page.items[page.items.length - 1];
        after = {
          entityRef: last.entityRef,
          releaseName: last.releaseName,
          id: last.id,
        };
      }
      expect(byKey).toEqual(byOffset);
      expect(new Set(byKey).size).toBe(130);

      // "owners of group a, but not on prod": the shape a policy produces.
      const filtered = await store.list({
        limit: 500,
        offset: 0,
        filter: {
          allOf: [
            { owners: ['group:default/a'] },
            { not: { targetNames: ['prod'] } },
          ],
        },
      });
      expect(filtered.totalCount).toBe(
        Array.from({ length: 130 }, (_, i) => i).filter(
          i => i % 2 === 0 && i % 3 !== 0,
        ).length,
      );
      expect(
        filtered.items.every(
          p => p.entityOwner === 'group:default/a' && p.targetName !== 'prod',
        ),
      ).toBe(true);
      const either = await store.list({
        limit: 500,
        offset: 0,
        filter: { anyOf: [{ namespaces: ['team-b'] }, { entityRefs: [] }] },
      });
      expect(either.totalCount).toBe(26);
    });
  },
);
