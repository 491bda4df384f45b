/*
 * The migration that gives values profiles an owner, on real PostgreSQL and
 * SQLite: existing profiles stay unowned, an owner round-trips through the
 * store and filters the list, and the migration can be undone.
 */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import {
  DatabaseProfileStore,
  ProfileFilterTree,
} from '../profiles/DatabaseProfileStore';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const directory = resolvePackagePath(
  '@kubedeploy/plugin-deployments-backend',
  'migrations',
);
const MIGRATION = '20261202110000_profile_owner.js';
const CHART_ID = '00000000-0000-4000-8000-0000000000c1';
const PROFILE_ID = '00000000-0000-4000-8000-0000000000a1';

/** Runs every migration before `name`, so the next `up` is `name` itself. */
async function migrateUpTo(knex: Knex, name: string): Promise<void> {
  for (;;) {
    const [, pending] = (await knex.migrate.list({ directory })) as [
      unknown,
      Array<{ file: string }>,
    ];
    if (pending.length === 0) {
      throw new Error(`migration ${name} is not pending`);
    }
    if (pending[0].file === name) {
      return;
    }
    await knex.migrate.up({ directory });
  }
}

describe.each(databases.eachSupportedId())(
  'profile owner migration (%p)',
  databaseId => {
    it('adds owner, empty for existing profiles, and removes it again', async () => {
      const knex = await databases.init(databaseId);
      await migrateUpTo(knex, MIGRATION);

      const now = new Date().toISOString();
      await knex('deployments_charts').insert({
        id: CHART_ID,
        source_kind: 'oci',
        reference: 'oci://registry.example/charts/hello',
        name: 'hello',
        version: '0.1.0',
        chart_digest: `sha256:${'0'.repeat(64)}`,
        metadata: '{}',
        archive: Buffer.from('chart'),
        archive_size: 5,
        registered_at: now,
        registered_by: 'user:default/admin',
      });
      await knex('deployments_profiles').insert({
        id: PROFILE_ID,
        chart_id: CHART_ID,
        name: 'existing',
        revision: 1,
        created_at: now,
        created_by: 'user:default/admin',
        updated_at: now,
        updated_by: 'user:default/admin',
      });
      await knex('deployments_profile_revisions').insert({
        profile_id: PROFILE_ID,
        revision: 1,
        chart_id: CHART_ID,
        values: '{}',
        secret_paths: '[]',
        values_hash: `sha256:${'1'.repeat(64)}`,
        created_at: now,
        created_by: 'user:default/admin',
      });

      await knex.migrate.up({ directory, name: MIGRATION });
      expect(await knex.schema.hasColumn('deployments_profiles', 'owner')).toBe(
        true,
      );

      const store = DatabaseProfileStore.create(knex);
      const existing = await store.get(PROFILE_ID);
      expect(existing).toMatchObject({
        name: 'existing',
        chartName: 'hello',
        owner: undefined,
      });
      // The ownership rule's query matches no unowned profile.
      expect(
        (await store.list({ limit: 10, offset: 0, filter: { owners: [] } }))
          .totalCount,
      ).toBe(0);

      await store.addRevision(
        {
          ...existing!,
          owner: 'group:default/team-a',
          revision: 2,
          updatedAt: now,
        },
        {
          profileId: PROFILE_ID,
          revision: 2,
          chartId: CHART_ID,
          values: {},
          secretPaths: [],
          valuesHash: `sha256:${'2'.repeat(64)}`,
          createdAt: now,
          createdBy: 'user:default/admin',
        },
        1,
      );
      expect((await store.get(PROFILE_ID))?.owner).toBe('group:default/team-a');
      const cases: Array<[ProfileFilterTree, number]> = [
        [{ owners: ['group:default/team-a'] }, 1],
        [{ owners: ['group:default/team-b'] }, 0],
        [{ chartNames: ['hello'] }, 1],
        [{ not: { chartNames: ['hello'] } }, 0],
        [
          {
            anyOf: [
              { owners: ['group:default/team-b'] },
              { chartNames: ['hello'] },
            ],
          },
          1,
        ],
        [
          {
            allOf: [
              { owners: ['group:default/team-b'] },
              { chartNames: ['hello'] },
            ],
          },
          0,
        ],
      ];
      for (const [filter, count] of cases) {
        const page = await store.list({ limit: 10, offset: 0, filter });
        expect({
          filter,
          count: page.totalCount,
          items: page.items.length,
        }).toEqual({
          filter,
          count,
          items: count,
        });
      }

      await knex.migrate.down({ directory, name: MIGRATION });
      expect(await knex.schema.hasColumn('deployments_profiles', 'owner')).toBe(
        false,
      );
      expect(
        await knex('deployments_profiles').where({ id: PROFILE_ID }).first(),
      ).toMatchObject({ name: 'existing', revision: 2 });

      await knex.migrate.latest({ directory });
      expect(await knex.schema.hasColumn('deployments_profiles', 'owner')).toBe(
        true,
      );
    });
  },
);
