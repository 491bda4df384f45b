/*
 * The migration that adds allow_objects_in_other_allowed_namespaces, on real
 * PostgreSQL and SQLite: existing targets keep refusing objects in other
 * namespaces, the flag round-trips, and the migration can be undone.
 */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const directory = resolvePackagePath(
  '@kubedeploy/plugin-deployments-backend',
  'migrations',
);
const MIGRATION = '20261124090000_target_other_namespaces.js';
const COLUMN = 'allow_objects_in_other_allowed_namespaces';

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
  'target settings migration (%p)',
  databaseId => {
    it(`adds ${COLUMN}, false for existing targets, and removes it again`, async () => {
      const knex = await databases.init(databaseId);
      await migrateUpTo(knex, MIGRATION);

      const now = new Date().toISOString();
      await knex('deployments_targets').insert({
        id: '00000000-0000-4000-8000-000000000001',
        name: 'existing',
        display_name: 'Existing',
        api_server_url: 'https://127.0.0.1:6443',
        auth_kind: 'token',
        credentials_version: 0,
        allowed_namespaces: JSON.stringify(['team-a', 'kube-system']),
        allowed_cluster_kinds: JSON.stringify(['ClusterRole']),
        allow_insecure_tls: true,
        revision: 1,
        created_at: now,
        created_by: 'user:default/admin',
        updated_at: now,
        updated_by: 'user:default/admin',
      });

      await knex.migrate.up({ directory, name: MIGRATION });
      expect(await knex.schema.hasColumn('deployments_targets', COLUMN)).toBe(
        true,
      );

      // Read as rows: the store follows the latest schema, not this one.
      const existing = await knex('deployments_targets')
        .where({ name: 'existing' })
        .first();
      expect(Boolean(existing[COLUMN])).toBe(false);
      // Rows are not rewritten: an invalid entry stays, reported by the API.
      expect(JSON.parse(existing.allowed_cluster_kinds)).toEqual([
        'ClusterRole',
      ]);
      expect(Boolean(existing.allow_insecure_tls)).toBe(true);

      await knex('deployments_targets')
        .where({ name: 'existing', revision: 1 })
        .update({ [COLUMN]: true, revision: 2 });
      expect(
        Boolean(
          (
            await knex('deployments_targets')
              .where({ name: 'existing' })
              .first()
          )[COLUMN],
        ),
      ).toBe(true);

      await knex.migrate.down({ directory, name: MIGRATION });
      expect(await knex.schema.hasColumn('deployments_targets', COLUMN)).toBe(
        false,
      );
      expect(
        await knex('deployments_targets').where({ name: 'existing' }).first(),
      ).toMatchObject({ name: 'existing', revision: 2 });

      await knex.migrate.latest({ directory });
      expect(await knex.schema.hasColumn('deployments_targets', COLUMN)).toBe(
        true,
      );
    });
  },
);
