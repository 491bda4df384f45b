/*
 * Values profiles have owners, with a policy that grants profile read, use,
 * update and delete only on the caller's own profiles (IS_PROFILE_OWNER),
 * on PostgreSQL and SQLite with the local stack's registry and cluster:
 *
 * - another team's profile is not readable (answered like a missing one),
 *   not listed, not editable and cannot be bound to a plan
 *   (deployments.profile.use, checked at plan create and change);
 * - the use is decided again before every operation that renders the
 *   profile, so an owner change stops plans that bound it.
 */
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  isResourcePermission,
  Permission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { DEPLOYMENTS_PROFILE_RESOURCE_TYPE } from '@kubedeploy/plugin-deployments-common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import {
  createProfileConditionalDecision,
  profileConditions,
} from '../permissions/profilePermissionRules';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const suffix = randomBytes(3).toString('hex');
const SECRET = 'team-a-token-5d1e9c3b7a';

const PLATFORM = 'group:default/platform';
const ALICE = 'user:default/alice';
const BOB = 'user:default/bob';
const CAROL = 'user:default/carol';
const GROUPS: Record<string, string[]> = {
  [ALICE]: [PLATFORM],
  [BOB]: ['group:default/team-a'],
  [CAROL]: ['group:default/team-b'],
};

/**
 * The policy: everything is allowed but the profile permissions, which the
 * platform has on every profile and everyone else only on the profiles
 * their groups own (a conditional decision, as a permission backend would
 * send it).
 */
function decide(
  permission: Permission,
  credentials: BackstageCredentials,
): PolicyDecision {
  const user = (credentials.principal as { userEntityRef?: string })
    .userEntityRef;
  const claims = user ? [user, ...(GROUPS[user] ?? [])] : [];
  if (
    isResourcePermission(permission, DEPLOYMENTS_PROFILE_RESOURCE_TYPE) &&
    !claims.includes(PLATFORM)
  ) {
    return createProfileConditionalDecision(
      permission,
      profileConditions.isProfileOwner({ claims }),
    );
  }
  return { result: AuthorizeResult.ALLOW };
}

const permissions = mockServices.permissions.mock({
  authorize: async (requests, { credentials }) =>
    requests.map(({ permission }) => {
      const decision = decide(permission, credentials);
      // A definitive answer is all authorize gives; this plugin always
      // asks conditionally for resource permissions.
      return {
        result:
          decision.result === AuthorizeResult.ALLOW
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
      };
    }),
  authorizeConditional: async (requests, { credentials }) =>
    requests.map(({ permission }) => decide(permission, credentials)),
});

function component(name: string, owner: string) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'service', lifecycle: 'production', owner },
  };
}

function as(user: string) {
  return { Authorization: `Bearer ${mockCredentials.user.token(user)}` };
}

/** Setup steps must succeed; a failure names the response. */
function ensureCreated(response: { status: number; body: unknown }) {
  if (response.status !== 201) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
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

describe.each(databases.eachSupportedId())(
  'values profile owners (%s)',
  databaseId => {
    let server: Server;
    let chartId: string;
    let teamA: string;
    let teamB: string;

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          permissions.factory,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: {
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
      const alice = as(ALICE);
      ensureCreated(
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
          credentials: {
            authKind: 'kubeconfig',
            kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
          },
        });
      ensureCreated(target);
      const chart = await request(server)
        .post(`${API}/charts`)
        .set(alice)
        .send({
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      ensureCreated(chart);
      chartId = chart.body.id;

      const profileOf = async (user: string, name: string, owner: string) => {
        const created = await request(server)
          .post(`${API}/profiles`)
          .set(as(user))
          .send({
            chartId,
            name,
            owner,
            values: { replicaCount: 1, greeting: name, apiToken: SECRET },
          });
        expect({ status: created.status, owner: created.body.owner }).toEqual({
          status: 201,
          owner,
        });
        return created.body.id as string;
      };
      teamA = await profileOf(BOB, 'team-a-prod', 'group:default/team-a');
      teamB = await profileOf(CAROL, 'team-b-prod', 'group:default/team-b');
    });

    it('refuses an owner that is not a full entity ref, and keeps the owner across edits', async () => {
      const bad = await request(server)
        .post(`${API}/profiles`)
        .set(as(BOB))
        .send({ chartId, name: 'bad-owner', owner: 'team-a', values: {} });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(
        /owner must be a full entity ref like group:default\/team-a/,
      );

      const edited = await request(server)
        .put(`${API}/profiles/${teamA}`)
        .set(as(BOB))
        .send({ description: 'production values' });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        owner: 'group:default/team-a',
        revision: 2,
      });
    });

    it("hides another team's profile: not readable, not listed, not editable", async () => {
      // Carol asks for bob's profile: answered as if it did not exist.
      for (const path of [
        `/profiles/${teamA}`,
        `/profiles/${teamA}/revisions`,
        `/profiles/${teamA}/revisions/1`,
      ]) {
        const read = await request(server).get(`${API}${path}`).set(as(CAROL));
        expect({ path, status: read.status }).toEqual({ path, status: 404 });
        expect(JSON.stringify(read.body)).not.toMatch(/team-a-prod|greeting/);
        const missing = await request(server)
          .get(
            `${API}${path.replace(
              teamA,
              '0b6f3c52-1111-4c1e-9a39-9a0e3b7f0a11',
            )}`,
          )
          .set(as(CAROL));
        expect(missing.status).toBe(404);
      }
      for (const [method, body] of [
        ['put', { description: 'mine now', owner: 'group:default/team-b' }],
        ['delete', undefined],
      ] as const) {
        const call = request(server)
          [method](`${API}/profiles/${teamA}`)
          .set(as(CAROL));
        const response = await (body ? call.send(body) : call);
        expect({ method, status: response.status }).toEqual({
          method,
          status: 403,
        });
        expect(JSON.stringify(response.body)).not.toContain('team-a-prod');
      }

      const carols = await request(server)
        .get(`${API}/profiles`)
        .set(as(CAROL));
      expect(carols.status).toBe(200);
      expect(carols.body.items.map((p: { name: string }) => p.name)).toEqual([
        'team-b-prod',
      ]);
      expect(carols.body.totalCount).toBe(1);

      // The owner still sees and reads it; the platform sees everything.
      const bobs = await request(server).get(`${API}/profiles`).set(as(BOB));
      expect(bobs.body.items.map((p: { name: string }) => p.name)).toEqual([
        'team-a-prod',
      ]);
      const own = await request(server)
        .get(`${API}/profiles/${teamA}`)
        .set(as(BOB));
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({
        name: 'team-a-prod',
        owner: 'group:default/team-a',
        description: 'production values',
      });
      expect(JSON.stringify(own.body)).not.toContain(SECRET);
      const all = await request(server).get(`${API}/profiles`).set(as(ALICE));
      expect(all.body.totalCount).toBe(2);
    });

    it('answers the permission backend about profiles by id (apply-conditions)', async () => {
      const response = await request(server)
        .post(`${API}/.well-known/backstage/permissions/apply-conditions`)
        .set('Authorization', mockCredentials.service.header())
        .send({
          items: [teamA, teamB, '0b6f3c52-1111-4c1e-9a39-9a0e3b7f0a11'].map(
            (resourceRef, i) => ({
              id: String(i),
              resourceRef,
              resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
              conditions: {
                anyOf: [
                  {
                    rule: 'IS_PROFILE_OWNER',
                    resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
                    params: { claims: ['group:default/team-b'] },
                  },
                  {
                    rule: 'HAS_PROFILE_CHART',
                    resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
                    params: { chartNames: ['another-chart'] },
                  },
                ],
              },
            }),
          ),
        });
      expect(response.status).toBe(200);
      expect(
        response.body.items.map((i: { result: string }) => i.result),
      ).toEqual([
        AuthorizeResult.DENY,
        AuthorizeResult.ALLOW,
        AuthorizeResult.DENY,
      ]);
    });

    it("refuses a plan that binds another team's profile, naming deployments.profile.use", async () => {
      const create = (user: string, profileId: string, releaseName: string) =>
        request(server).post(`${API}/plans`).set(as(user)).send({
          entityRef: 'component:default/shop',
          chartId,
          target: 'local',
          namespace: 'team-b',
          releaseName,
          profileId,
        });

      const stolen = await create(CAROL, teamA, `shop-stolen-${suffix}`);
      expect(stolen.status).toBe(403);
      expect(stolen.body.error.message).toContain(
        `Not allowed to use values profile ${teamA}: needs deployments.profile.use`,
      );
      expect(JSON.stringify(stolen.body)).not.toContain('team-a-prod');

      const own = await create(CAROL, teamB, `shop-own-${suffix}`);
      expect({ status: own.status, body: own.body }).toMatchObject({
        status: 201,
        body: { profileId: teamB },
      });

      // Changing her plan to bind bob's profile is refused the same way.
      const rebound = await request(server)
        .put(`${API}/plans/${own.body.id}`)
        .set(as(CAROL))
        .send({ profileId: teamA });
      expect(rebound.status).toBe(403);
      expect(rebound.body.error.message).toMatch(/deployments\.profile\.use/);

      const plans = await request(server).get(`${API}/plans`).set(as(ALICE));
      expect(
        plans.body.items.map((p: { releaseName: string }) => p.releaseName),
      ).toEqual([`shop-own-${suffix}`]);
      expect(plans.body.items[0].profileId).toBe(teamB);
    });

    it('decides the use again before every operation that renders the profile', async () => {
      const planned = await request(server)
        .post(`${API}/plans`)
        .set(as(BOB))
        .send({
          entityRef: 'component:default/payments-api',
          chartId,
          target: 'local',
          namespace: 'team-a',
          releaseName: `pay-${suffix}`,
          profileId: teamA,
        });
      expect(planned.status).toBe(201);
      const planId = planned.body.id;

      const started = await request(server)
        .post(`${API}/plans/${planId}/dry-run`)
        .set(as(BOB))
        .send({});
      expect(started.status).toBe(202);
      const finished = await waitFor(server, started.body.id, BOB);
      expect({ status: finished.status, error: finished.error }).toEqual({
        status: 'succeeded',
        error: undefined,
      });

      // The platform hands the profile to team-b: bob's plan, unchanged,
      // can no longer render it.
      const handedOver = await request(server)
        .put(`${API}/profiles/${teamA}`)
        .set(as(ALICE))
        .send({ owner: 'group:default/team-b' });
      expect(handedOver.status).toBe(200);
      for (const step of ['dry-run', 'preflight', 'apply']) {
        const refused = await request(server)
          .post(`${API}/plans/${planId}/${step}`)
          .set(as(BOB))
          .send({});
        expect({ step, status: refused.status }).toEqual({ step, status: 403 });
        expect(refused.body.error.message).toMatch(
          /values profile .*: needs deployments\.profile\.use/,
        );
      }
      const operations = await request(server)
        .get(`${API}/plans/${planId}/operations`)
        .set(as(ALICE));
      expect(operations.body.totalCount).toBe(1);
    });
  },
);
