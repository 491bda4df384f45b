/*
 * The example policy through the real permission backend and the real
 * deployments plugin: who may create plans where, the same plan allowed to
 * its owner and denied to another team, production for the platform group.
 */
import {
  AuthService,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import permissionPlugin from '@backstage/plugin-permission-backend';
import deploymentsPlugin from '@kubedeploy/plugin-deployments-backend';
import { permissionModuleDeploymentsPolicy as deploymentsPolicyModule } from './module';

jest.setTimeout(120_000);

const API = '/api/deployments';
const ownership: Record<string, string[]> = {
  'user:default/alice': ['user:default/alice', 'group:default/platform'],
  'user:default/bob': ['user:default/bob', 'group:default/payments'],
  'user:default/carol': ['user:default/carol', 'group:default/storefront'],
};
const as = (user: string) => mockCredentials.user.header(user);

/**
 * The mock auth service drops the calling plugin (the "actor") from tokens
 * issued on behalf of a user, which the real one keeps; the permission
 * backend needs it to accept a plugin's resource checks.
 */
const authWithActor = createServiceFactory({
  service: coreServices.auth,
  deps: { plugin: coreServices.pluginMetadata },
  factory({ plugin }): AuthService {
    const auth = mockServices.auth({ pluginId: plugin.getId() });
    return {
      authenticate: token => auth.authenticate(token),
      getNoneCredentials: () => auth.getNoneCredentials(),
      getOwnServiceCredentials: () => auth.getOwnServiceCredentials(),
      isPrincipal: auth.isPrincipal.bind(auth) as AuthService['isPrincipal'],
      getLimitedUserToken: credentials => auth.getLimitedUserToken(credentials),
      listPublicServiceKeys: () => auth.listPublicServiceKeys(),
      async getPluginRequestToken(options) {
        const principal = options.onBehalfOf.principal as {
          type: string;
          userEntityRef?: string;
          actor?: unknown;
        };
        if (principal.type === 'user' && !principal.actor) {
          return {
            token: mockCredentials.user.token(principal.userEntityRef, {
              actor: { subject: `plugin:${plugin.getId()}` },
            }),
          };
        }
        return auth.getPluginRequestToken(options);
      },
    };
  },
});

describe('permissionModuleDeploymentsPolicy', () => {
  it('lets owners deploy into their namespaces on non-production targets and keeps production for the platform group', async () => {
    const env = process.env;
    if (!env.KUBEDEPLOY_KUBECONFIG || !env.KUBEDEPLOY_REGISTRY) {
      throw new Error('The local stack is not running: use scripts/test');
    }
    const component = (name: string, owner: string) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name, namespace: 'default' },
      spec: { type: 'service', lifecycle: 'production', owner },
    });
    const { server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        permissionPlugin,
        deploymentsPolicyModule,
        authWithActor,
        mockServices.rootConfig.factory({
          data: {
            permission: { enabled: true },
            deployments: { registries: { allowLoopback: true } },
          },
        }),
        mockServices.userInfo.mock({
          getUserInfo: async credentials => {
            const userEntityRef = (
              credentials.principal as { userEntityRef: string }
            ).userEntityRef;
            return {
              userEntityRef,
              ownershipEntityRefs: ownership[userEntityRef] ?? [userEntityRef],
            };
          },
        }).factory,
        catalogServiceMock.factory({
          entities: [
            component('payments-api', 'payments'),
            component('storefront-web', 'storefront'),
          ],
        }),
      ],
    });
    const alice = as('user:default/alice');
    const bob = as('user:default/bob');
    const carol = as('user:default/carol');

    // Platform work: only the platform group may do it.
    await request(server)
      .post(`${API}/keyring/bootstrap`)
      .set('Authorization', alice)
      .send({ passphrase: 'correct horse battery staple 42' })
      .expect(201);
    const kubeconfig = readFileSync(env.KUBEDEPLOY_KUBECONFIG, 'utf8');
    const namespaceOwners = [
      { namespace: 'team-a', owners: ['group:default/payments'] },
      { namespace: 'team-b', owners: ['group:default/storefront'] },
    ];
    for (const [name, production] of [
      ['staging', false],
      ['production', true],
    ] as const) {
      await request(server)
        .post(`${API}/targets`)
        .set('Authorization', alice)
        .send({
          name,
          production,
          allowedNamespaces: ['team-a', 'team-b'],
          namespaceOwners,
          credentials: { authKind: 'kubeconfig', kubeconfig },
        })
        .expect(201);
    }
    const bobCreatesTarget = await request(server)
      .post(`${API}/targets`)
      .set('Authorization', bob)
      .send({
        name: 'rogue',
        allowedNamespaces: ['team-a'],
        credentials: { authKind: 'kubeconfig', kubeconfig },
      });
    expect(bobCreatesTarget.status).toBe(403);

    const hello = {
      reference: `oci://${env.KUBEDEPLOY_REGISTRY}/charts/hello`,
      version: '0.1.0',
    };
    const bobRegisters = await request(server)
      .post(`${API}/charts`)
      .set('Authorization', bob)
      .send(hello);
    expect(bobRegisters.status).toBe(403);
    const chart = await request(server)
      .post(`${API}/charts`)
      .set('Authorization', alice)
      .send(hello)
      .expect(201);

    // Values profiles belong to their owners; anyone may create one.
    const profiles: Record<string, string> = {};
    for (const [who, team] of [
      [bob, 'payments'],
      [carol, 'storefront'],
    ] as const) {
      const profile = await request(server)
        .post(`${API}/profiles`)
        .set('Authorization', who)
        .send({
          chartId: chart.body.id,
          name: team,
          owner: `group:default/${team}`,
          values: { replicaCount: 1 },
        })
        .expect(201);
      profiles[team] = profile.body.id;
    }
    const carolReadsBobs = await request(server)
      .get(`${API}/profiles/${profiles.payments}`)
      .set('Authorization', carol);
    // A profile the caller may not read is not found for them.
    expect(carolReadsBobs.status).toBe(404);

    const newPlan = (
      who: string,
      entity: string,
      target: string,
      namespace: string,
      profileId?: string,
    ) =>
      request(server)
        .post(`${API}/plans`)
        .set('Authorization', who)
        .send({
          entityRef: `component:default/${entity}`,
          chartId: chart.body.id,
          target,
          namespace,
          releaseName: `policy-${entity}-${target}`,
          profileId,
        });

    // Where plans may go: the owner's component, into a namespace its
    // group owns, on a non-production target.
    expect(
      (
        await newPlan(
          bob,
          'payments-api',
          'staging',
          'team-a',
          profiles.storefront,
        )
      ).status,
    ).toBe(403);
    const staging = await newPlan(
      bob,
      'payments-api',
      'staging',
      'team-a',
      profiles.payments,
    );
    expect(staging.status).toBe(201);
    expect(staging.body.entityOwner).toBe('group:default/payments');
    expect(
      (await newPlan(carol, 'payments-api', 'staging', 'team-a')).status,
    ).toBe(403);
    expect(
      (await newPlan(carol, 'storefront-web', 'staging', 'team-a')).status,
    ).toBe(403);
    expect(
      (await newPlan(bob, 'payments-api', 'production', 'team-a')).status,
    ).toBe(403);
    const production = await newPlan(
      alice,
      'payments-api',
      'production',
      'team-a',
    );
    expect(production.status).toBe(201);

    // Everyone may read the plans.
    for (const who of [bob, carol]) {
      await request(server)
        .get(`${API}/plans/${staging.body.id}`)
        .set('Authorization', who)
        .expect(200);
    }

    // The same plan: bob owns it and passes the permission checks (the gate
    // then asks for a dry-run), carol does not own it and is refused.
    const bobApplies = await request(server)
      .post(`${API}/plans/${staging.body.id}/apply`)
      .set('Authorization', bob);
    expect(bobApplies.status).toBe(409);
    expect(bobApplies.body.error.message).toMatch(/dry-run/);
    const carolApplies = await request(server)
      .post(`${API}/plans/${staging.body.id}/apply`)
      .set('Authorization', carol);
    expect(carolApplies.status).toBe(403);

    // Production is for the platform group, even for the owner.
    const bobProduction = await request(server)
      .post(`${API}/plans/${production.body.id}/apply`)
      .set('Authorization', bob);
    expect(bobProduction.status).toBe(403);
    const aliceProduction = await request(server)
      .post(`${API}/plans/${production.body.id}/apply`)
      .set('Authorization', alice);
    expect(aliceProduction.status).toBe(409);

    // Uninstall is platform-only.
    const bobUninstalls = await request(server)
      .post(`${API}/plans/${staging.body.id}/uninstall`)
      .set('Authorization', bob)
      .send({ confirmReleaseName: 'policy-payments-api-staging' });
    expect(bobUninstalls.status).toBe(403);
  });
});
