/*
 * The status banner honours the plan read decision of `GET /plans`, on real
 * PostgreSQL and SQLite: ALLOW reports every plan's releases and running
 * operations, CONDITIONAL only those of the plans the conditions allow, DENY
 * none (the keyring and targets stay visible).
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { deploymentsPlanReadPermission } from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';
import request from 'supertest';
import {
  planConditions,
  createPlanConditionalDecision,
} from '../permissions/planPermissionRules';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { deploymentsPlugin } from '../plugin';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const API = '/api/deployments';
const ownership: Record<string, string[]> = {
  'user:default/alice': ['user:default/alice', 'group:default/platform'],
  'user:default/bob': ['user:default/bob', 'group:default/payments'],
};

/**
 * The example policy's shape for plan reads: the platform group reads every
 * plan, a team the plans of components it owns; anyone else nothing. Every
 * user may read the banner itself.
 */
function planReadDecision(userEntityRef: string): PolicyDecision {
  const claims = ownership[userEntityRef] ?? [];
  if (claims.includes('group:default/platform')) {
    return { result: AuthorizeResult.ALLOW };
  }
  if (userEntityRef === 'user:default/bob') {
    return createPlanConditionalDecision(
      deploymentsPlanReadPermission,
      planConditions.isPlanEntityOwner({ claims }),
    );
  }
  return { result: AuthorizeResult.DENY };
}

/** Two plans of components owned by different teams, both failed, both running an operation. */
async function seed(knex: Knex): Promise<void> {
  await createPlanPrerequisites(knex);
  const plans = DatabasePlanStore.create(knex);
  for (const [team, id] of [
    ['payments', 'payments-plan'],
    ['storefront', 'storefront-plan'],
  ]) {
    await plans.insert(
      storedPlan({
        id,
        entityRef: `component:default/${team}-api`,
        entityOwner: `group:default/${team}`,
        releaseName: `${team}-api`,
        status: 'failed',
        statusMessage: `${team} upgrade failed`,
      }),
    );
    await knex('deployments_operations').insert({
      id: `${id}-op`,
      plan_id: id,
      plan_revision: 1,
      kind: 'dry-run',
      status: 'running',
      actor: `user:default/${team}`,
      target_id: 'target-dev',
      target_name: 'dev',
      namespace: 'team-a',
      release_name: `${team}-api`,
      runner_id: 'runner',
      heartbeat_at: new Date().toISOString(),
      created_at: new Date().toISOString(),
    });
  }
}

describe('GET /health/summary', () => {
  it.each(databases.eachSupportedId())(
    'reports only the releases and operations of plans the caller may read (%p)',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await seed(knex);
      const permissions = mockServices.permissions.mock({
        authorize: async requests =>
          requests.map(() => ({ result: AuthorizeResult.ALLOW })),
        authorizeConditional: async (requests, { credentials }) =>
          requests.map(() =>
            planReadDecision(
              (credentials.principal as { userEntityRef: string })
                .userEntityRef,
            ),
          ),
      });
      const { server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          permissions.factory,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({
            entities: ['payments', 'storefront'].map(team => ({
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: { name: `${team}-api`, namespace: 'default' },
              spec: { type: 'service', lifecycle: 'production', owner: team },
            })),
          }),
        ],
      });
      const summaryFor = async (user: string) => {
        const response = await request(server)
          .get(`${API}/health/summary`)
          .set('Authorization', mockCredentials.user.header(user));
        expect(response.status).toBe(200);
        return {
          failed: response.body.releases.failed
            .map((r: { planId: string }) => r.planId)
            .sort(),
          running: response.body.operations.running,
          keyring: response.body.keyring,
          targets: response.body.targets.total,
        };
      };

      // bob's team owns payments-api only: the same plans GET /plans lists.
      const bob = await summaryFor('user:default/bob');
      expect(bob).toEqual({
        failed: ['payments-plan'],
        running: 1,
        keyring: 'uninitialized',
        targets: 2,
      });
      const bobsPlans = await request(server)
        .get(`${API}/plans`)
        .set('Authorization', mockCredentials.user.header('user:default/bob'));
      expect(bobsPlans.body.items.map((p: { id: string }) => p.id)).toEqual([
        'payments-plan',
      ]);

      // The platform group sees both; a denied reader none, but the rest.
      expect(await summaryFor('user:default/alice')).toEqual({
        failed: ['payments-plan', 'storefront-plan'],
        running: 2,
        keyring: 'uninitialized',
        targets: 2,
      });
      expect(await summaryFor('user:default/carol')).toEqual({
        failed: [],
        running: 0,
        keyring: 'uninitialized',
        targets: 2,
      });
    },
  );
});
