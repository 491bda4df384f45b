import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';

/**
 * Real PostgreSQL (from the local stack) and SQLite. Fails loudly instead of
 * quietly skipping PostgreSQL when the stack's connection string is missing.
 */
export function createTestDatabases(): TestDatabases {
  const postgres = (process.env.KUBEDEPLOY_POSTGRES_ID ??
    'POSTGRES_15') as TestDatabaseId;
  const databases = TestDatabases.create({
    ids: [postgres, 'SQLITE_3'],
    disableDocker: true,
  });
  if (!databases.supports(postgres)) {
    throw new Error(
      `PostgreSQL (${postgres}) is not available to the tests: run them through scripts/test, or eval "$(scripts/stack env)" after scripts/stack up`,
    );
  }
  return databases;
}
