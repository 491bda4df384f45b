/*
 * The example policy through the real permission backend and the real
 * deployments plugin: the same plan, one user allowed, another denied.
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
import deploymentsPolicyModule from './deploymentsPolicyModule';

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

describe('DeploymentsExamplePolicy', () => {
  it('lets the owner apply a plan on a non-production target and denies another team', async () => {
    const env = process.env;
    if (!env.KUBEDEPLOY_KUBECONFIG || !env.KUBEDEPLOY_REGISTRY) {
      throw new Error('The local stack is not running: use scripts/test');
    }
    const { server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        permissionPlugin,
        deploymentsPolicyModule,
        authWithActor,
        mockServices.rootConfig.factory({
          data: {
            permission: {
              enabled: true,
              deployments: { productionTargets: ['production'] },
            },
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
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: { name: 'payments-api', namespace: 'default' },
              spec: {
                type: 'service',
                lifecycle: 'production',
                owner: 'payments',
              },
            },
          ],
        }),
      ],
    });
    const alice = as('user:default/alice');

    // Platform work: only the platform group may do it.
    await request(server)
      .post(`${API}/keyring/bootstrap`)
      .set('Authorization', alice)
      .send({ passphrase: 'correct horse battery staple 42' })
      .expect(201);
    const kubeconfig = readFileSync(env.KUBEDEPLOY_KUBECONFIG, 'utf8');
    for (const name of ['staging', 'production']) {
      await request(server)
        .post(`${API}/targets`)
        .set('Authorization', alice)
        .send({
          name,
          allowedNamespaces: ['team-a'],
          credentials: { authKind: 'kubeconfig', kubeconfig },
        })
        .expect(201);
    }
    const bobCreatesTarget = await request(server)
      .post(`${API}/targets`)
      .set('Authorization', as('user:default/bob'))
      .send({
        name: 'rogue',
        allowedNamespaces: ['team-a'],
        credentials: { authKind: 'kubeconfig', kubeconfig },
      });
    expect(bobCreatesTarget.status).toBe(403);

    const chart = await request(server)
      .post(`${API}/charts`)
      .set('Authorization', alice)
      .send({
        reference: `oci://${env.KUBEDEPLOY_REGISTRY}/charts/hello`,
        version: '0.1.0',
      })
      .expect(201);
    const plans: Record<string, string> = {};
    for (const target of ['staging', 'production']) {
      // Anyone may create a plan; ownership comes from the catalog.
      const plan = await request(server)
        .post(`${API}/plans`)
        .set('Authorization', as('user:default/carol'))
        .send({
          entityRef: 'component:default/payments-api',
          chartId: chart.body.id,
          target,
          namespace: 'team-a',
          releaseName: `policy-${target}`,
        })
        .expect(201);
      expect(plan.body.entityOwner).toBe('group:default/payments');
      plans[target] = plan.body.id;
    }

    // Everyone may read the plan.
    for (const user of ['user:default/bob', 'user:default/carol']) {
      await request(server)
        .get(`${API}/plans/${plans.staging}`)
        .set('Authorization', as(user))
        .expect(200);
    }

    // The same plan: bob owns it and passes the permission check (the gate
    // then asks for a dry-run), carol does not own it and is refused.
    const bobApplies = await request(server)
      .post(`${API}/plans/${plans.staging}/apply`)
      .set('Authorization', as('user:default/bob'));
    expect(bobApplies.status).toBe(409);
    expect(bobApplies.body.error.message).toMatch(/dry-run/);
    const carolApplies = await request(server)
      .post(`${API}/plans/${plans.staging}/apply`)
      .set('Authorization', as('user:default/carol'));
    expect(carolApplies.status).toBe(403);

    // Production is for the platform group, even for the owner.
    const bobProduction = await request(server)
      .post(`${API}/plans/${plans.production}/apply`)
      .set('Authorization', as('user:default/bob'));
    expect(bobProduction.status).toBe(403);
    const aliceProduction = await request(server)
      .post(`${API}/plans/${plans.production}/apply`)
      .set('Authorization', alice);
    expect(aliceProduction.status).toBe(409);

    // Uninstall is platform-only.
    const bobUninstalls = await request(server)
      .post(`${API}/plans/${plans.staging}/uninstall`)
      .set('Authorization', as('user:default/bob'))
      .send({ confirmReleaseName: 'policy-staging' });
    expect(bobUninstalls.status).toBe(403);
  });
});
