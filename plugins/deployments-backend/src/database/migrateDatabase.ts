import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { Knex } from 'knex';

const migrationsDir = resolvePackagePath(
  '@kubedeploy/plugin-deployments-backend',
  'migrations',
);

/**
 * Returns the plugin's knex client with every migration applied, unless the
 * deployment manages migrations itself (`database.migrations.skip`).
 */
export async function migrateDatabase(
  database: DatabaseService,
): Promise<Knex> {
  const client = await database.getClient();
  if (!database.migrations?.skip) {
    await client.migrate.latest({ directory: migrationsDir });
  }
  return client;
}
