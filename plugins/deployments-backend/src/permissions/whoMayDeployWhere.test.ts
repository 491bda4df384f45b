/*
 * Who may deploy where, through the real permission backend and a policy
 * written the way a platform team would write it, on PostgreSQL and SQLite
 * against the local stack's cluster and registry:
 *
 * - owners deploy their components only into namespaces their group owns
 *   (deployments.target.use on the placement), checked when a plan is
 *   created or changed and again before every operation;
 * - a release the portal did not create is taken over only with
 *   deployments.release.adopt.
 */
import {
  coreServices,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  isPermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import permissionPlugin from '@backstage/plugin-permission-backend';
import {
  deploymentsReleaseAdoptPermission,
  deploymentsTargetUsePermission,
} from '@kubedeploy/plugin-deployments-common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  createPlacementConditionalDecision,
  placementConditions,
} from './placementPermissionRules';
import {
  API,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const suffix = randomBytes(3).toString('hex');

const PLATFORM = 'group:default/platform';
const GROUPS: Record<string, string[]> = {
  'user:default/alice': [PLATFORM],
  'user:default/bob': ['group:default/team-a'],
  'user:default/carol': ['group:default/team-b'],
};

/** Everything is allowed except what this test is about. */
class WhoMayDeployWherePolicy implements PermissionPolicy {
  async handle(
    query: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const claims = user?.info.ownershipEntityRefs ?? [];
    const platform = claims.includes(PLATFORM);
    if (isPermission(query.permission, deploymentsTargetUsePermission)) {
      return platform
        ? { result: AuthorizeResult.ALLOW }
        : createPlacementConditionalDecision(query.permission, {
            allOf: [
              placementConditions.isEntityOwner({ claims }),
              placementConditions.isNamespaceOwnedByEntityOwner({}),
            ],
          });
    }
    if (isPermission(query.permission, deploymentsReleaseAdoptPermission)) {
      return {
        result: platform ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
      };
    }
    return { result: AuthorizeResult.ALLOW };
  }
}

/**
 * The mock HTTP auth service forgets who calls on a user's behalf; the real
 * one keeps the calling plugin as the actor, and the permission backend
 * refuses resource permissions without a resourceRef from users calling it
 * directly (no actor).
 */
const httpAuthKeepingActors = createServiceFactory({
  service: coreServices.httpAuth,
  deps: { plugin: coreServices.pluginMetadata },
  factory({ plugin }) {
    const httpAuth = mockServices.httpAuth({ pluginId: plugin.getId() });
    const credentials = async (
      req: Parameters<typeof httpAuth.credentials>[0],
      options?: { allow?: string[]; allowLimitedAccess?: boolean },
    ) => {
      const prefix = 'Bearer mock-service-token:';
      const header = req.headers.authorization;
      if (header?.startsWith(prefix)) {
        const { obo, sub } = JSON.parse(header.slice(prefix.length));
        if (obo && (!options?.allow || options.allow.includes('user'))) {
          return mockCredentials.user(obo, {
            actor: { subject: sub ?? 'plugin:deployments' },
          });
        }
      }
      return httpAuth.credentials(
        req,
        options as Parameters<typeof httpAuth.credentials>[1],
      );
    };
    return Object.assign(Object.create(httpAuth), { credentials });
  },
});

/** Each user's ownership claims: themselves and their group. */
const userInfo = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory: () => ({
    async getUserInfo(credentials) {
      const userEntityRef = (credentials.principal as { userEntityRef: string })
        .userEntityRef;
      return {
        userEntityRef,
        ownershipEntityRefs: [userEntityRef, ...(GROUPS[userEntityRef] ?? [])],
      };
    },
  }),
});

function component(name: string, owner: string) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'service', lifecycle: 'production', owner },
  };
}

/** Setup steps must succeed; a failure names the response. */
function ensure(response: { status: number; body: unknown }) {
  if (response.status !== 201) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

function as(user: string) {
  return { Authorization: `Bearer ${mockCredentials.user.token(user)}` };
}

async function waitFor(server: Server, operationId: string, user: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(server)
      .get(`${API}/operations/${operationId}`)
      .set(as(user));
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

async function run(server: Server, planId: string, step: string, user: string) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .set(as(user))
    .send({});
  expect({ step, status: started.status, body: started.body }).toMatchObject({
    status: 202,
  });
  const finished = await waitFor(server, started.body.id, user);
  expect({ step, status: finished.status, error: finished.error }).toEqual({
    step,
    status: 'succeeded',
    error: undefined,
  });
  return finished;
}

describe.each(databases.eachSupportedId())(
  'who may deploy where (%s)',
  databaseId => {
    let server: Server;
    let chartId: string;
    const releases: string[] = [];

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          permissionPlugin,
          createBackendModule({
            pluginId: 'permission',
            moduleId: 'who-may-deploy-where-policy',
            register(env) {
              env.registerInit({
                deps: { policy: policyExtensionPoint },
                async init({ policy }) {
                  policy.setPolicy(new WhoMayDeployWherePolicy());
                },
              });
            },
          }),
          userInfo,
          httpAuthKeepingActors,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: {
              permission: { enabled: true },
              deployments: {
                registries: { allowLoopback: true },
                operations: { heartbeatSeconds: 1 },
              },
            },
          }),
          catalogServiceMock.factory({
            entities: [
              component('payments-api', 'group:default/team-a'),
              component('shop', 'group:default/team-b'),
            ],
          }),
        ],
      }));
      const alice = as('user:default/alice');
      ensure(
        await request(server)
          .post(`${API}/keyring/bootstrap`)
          .set(alice)
          .send({ passphrase: 'correct horse battery staple 42' }),
      );
      const target = await request(server)
        .post(`${API}/targets`)
        .set(alice)
        .send({
          name: 'local',
          allowedNamespaces: ['team-a', 'team-b'],
          namespaceOwners: [
            { namespace: 'team-a', owners: ['group:default/team-a'] },
            { namespace: 'team-b', owners: ['group:default/team-b'] },
          ],
          credentials: {
            authKind: 'kubeconfig',
            kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
          },
        });
      ensure(target);
      const chart = await request(server)
        .post(`${API}/charts`)
        .set(alice)
        .send({
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      ensure(chart);
      chartId = chart.body.id;
    });

    afterAll(async () => {
      for (const release of releases) {
        await runHelm(
          ['uninstall', release, '-n', 'team-a', '--ignore-not-found'],
          { kubeconfig: stack.adminKubeconfigPath },
        ).catch(() => undefined);
      }
    });

    const plan = (
      user: string,
      fields: { entityRef: string; namespace: string; releaseName: string },
    ) =>
      request(server)
        .post(`${API}/plans`)
        .set(as(user))
        .send({ chartId, target: 'local', ...fields });

    it('lets owners deploy only into namespaces their group owns, decided again before every operation', async () => {
      const carol = 'user:default/carol';
      // Carol's component into bob's namespace: refused, naming the permission.
      const intoTeamA = await plan(carol, {
        entityRef: 'component:default/shop',
        namespace: 'team-a',
        releaseName: `shop-a-${suffix}`,
      });
      expect(intoTeamA.status).toBe(403);
      expect(intoTeamA.body.error.message).toMatch(
        /deployments\.target\.use.*namespace "team-a" of target "local"/,
      );
      // Bob's component into carol's namespace, created by carol: refused too.
      const othersComponent = await plan(carol, {
        entityRef: 'component:default/payments-api',
        namespace: 'team-b',
        releaseName: `pay-b-${suffix}`,
      });
      expect(othersComponent.status).toBe(403);
      // Her own component into her namespace: allowed.
      const own = await plan(carol, {
        entityRef: 'component:default/shop',
        namespace: 'team-b',
        releaseName: `shop-b-${suffix}`,
      });
      expect(own.status).toBe(201);
      // Moving her plan into team-a is a change: refused the same way.
      const moved = await request(server)
        .put(`${API}/plans/${own.body.id}`)
        .set(as(carol))
        .send({ namespace: 'team-a' });
      expect(moved.status).toBe(403);
      // Nothing was stored by the refusals.
      const list = await request(server)
        .get(`${API}/plans`)
        .set(as('user:default/alice'));
      expect(
        list.body.items.map((p: { releaseName: string }) => p.releaseName),
      ).toEqual([`shop-b-${suffix}`]);
      expect(
        (
          await request(server)
            .get(`${API}/plans/${own.body.id}`)
            .set(as(carol))
        ).body.namespace,
      ).toBe('team-b');

      // The platform gives team-b to another group: carol's existing plan can
      // no longer run, although the plan itself did not change.
      const handedOver = await request(server)
        .patch(`${API}/targets/local`)
        .set(as('user:default/alice'))
        .send({
          namespaceOwners: [
            { namespace: 'team-a', owners: ['group:default/team-a'] },
            { namespace: 'team-b', owners: ['group:default/team-c'] },
          ],
        });
      expect(handedOver.status).toBe(200);
      for (const step of ['dry-run', 'preflight', 'apply', 'rollback']) {
        const refused = await request(server)
          .post(`${API}/plans/${own.body.id}/${step}`)
          .set(as(carol))
          .send({});
        expect({ step, status: refused.status }).toEqual({ step, status: 403 });
        expect(refused.body.error.message).toMatch(/deployments\.target\.use/);
      }
      const uninstall = await request(server)
        .post(`${API}/plans/${own.body.id}/uninstall`)
        .set(as(carol))
        .send({ confirmReleaseName: `shop-b-${suffix}` });
      expect(uninstall.status).toBe(403);
      // Nothing ran.
      const operations = await request(server)
        .get(`${API}/plans/${own.body.id}/operations`)
        .set(as('user:default/alice'));
      expect(operations.body.totalCount).toBe(0);
    });

    it('takes over a release installed outside the portal only with deployments.release.adopt', async () => {
      const releaseName = `adopt-${suffix}`;
      releases.push(releaseName);
      await runHelm(
        [
          'install',
          releaseName,
          `oci://${stack.registry}/charts/hello`,
          '--version',
          '0.1.0',
          '--plain-http',
          '--namespace',
          'team-a',
        ],
        { kubeconfig: stack.adminKubeconfigPath },
      );
      const bob = 'user:default/bob';
      const created = await plan(bob, {
        entityRef: 'component:default/payments-api',
        namespace: 'team-a',
        releaseName,
      });
      expect(created.status).toBe(201);
      const planId = created.body.id;
      await run(server, planId, 'dry-run', bob);
      await run(server, planId, 'preflight', bob);

      const refused = await request(server)
        .post(`${API}/plans/${planId}/apply`)
        .set(as(bob))
        .send({});
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(
        new RegExp(
          `Release "${releaseName}" already exists in namespace "team-a" \\(revision 1, deployed\\) and was not deployed through the portal; taking it over needs deployments\\.release\\.adopt`,
        ),
      );
      // The refusal left the plan as it was: ready to apply, nothing running.
      const after = await request(server)
        .get(`${API}/plans/${planId}`)
        .set(as(bob));
      expect(after.body.status).not.toBe('applying');
      expect(after.body.runningOperationId).toBeUndefined();

      // The platform adopts it; from then on the portal made a revision, so
      // the owner applies without the adopt permission.
      await run(server, planId, 'apply', 'user:default/alice');
      await run(server, planId, 'dry-run', bob);
      await run(server, planId, 'preflight', bob);
      await run(server, planId, 'apply', bob);
      const history = await request(server)
        .get(`${API}/plans/${planId}/history`)
        .set(as(bob));
      expect(
        history.body.items.map((r: { revision: number }) => r.revision),
      ).toEqual(expect.arrayContaining([1, 2, 3]));
    });
  },
);
