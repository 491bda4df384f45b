import { Knex } from 'knex';
import { StoredPlan } from '../plans/DatabasePlanStore';

const NOW = '2026-11-23T00:00:00.000Z';

/**
 * Migrates and inserts what plan rows reference: targets `target-dev` and
 * `target-prod` and the chart `chart`, straight into the tables.
 */
export async function createPlanPrerequisites(knex: Knex): Promise<void> {
  await knex.migrate.latest({ directory: `${__dirname}/../../migrations` });
  for (const name of ['dev', 'prod']) {
    await knex('deployments_targets').insert({
      id: `target-${name}`,
      name,
      display_name: name,
      api_server_url: 'https://cluster.example',
      auth_kind: 'token',
      allowed_namespaces: '["*"]',
      allowed_cluster_kinds: '[]',
      revision: 1,
      created_at: NOW,
      created_by: 'test',
      updated_at: NOW,
      updated_by: 'test',
    });
  }
  await knex('deployments_charts').insert({
    id: 'chart',
    source_kind: 'oci',
    reference: 'oci://registry.example/charts/hello',
    name: 'hello',
    version: '0.1.0',
    chart_digest: `sha256:${'0'.repeat(64)}`,
    metadata: '{}',
    archive: Buffer.from('x'),
    archive_size: 1,
    registered_at: NOW,
    registered_by: 'test',
  });
}

/** A draft plan on `target-dev` for the chart of {@link createPlanPrerequisites}. */
export function storedPlan(
  fields: Pick<StoredPlan, 'id' | 'entityRef' | 'releaseName'> &
    Partial<StoredPlan>,
): StoredPlan {
  return {
    chartId: 'chart',
    targetId: 'target-dev',
    targetName: 'dev',
    namespace: 'team-a',
    options: {
      timeoutSeconds: 300,
      historyMax: 10,
      createNamespace: false,
      runTests: false,
    },
    revision: 1,
    status: 'draft',
    statusChangedAt: NOW,
    statusChangedBy: 'test',
    createdAt: NOW,
    createdBy: 'test',
    updatedAt: NOW,
    updatedBy: 'test',
    ...fields,
  };
}
