import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { DatabaseKeyringStore } from './keyring/DatabaseKeyringStore';
import { KeyringService } from './keyring/KeyringService';
import { OpenPgpKeyEngine } from './keyring/OpenPgpKeyEngine';
import { migrateDatabase } from './database/migrateDatabase';
import request from 'supertest';
import { deploymentsPlugin } from './plugin';
import { createTestDatabases } from './__testUtils__/testDatabases';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const ID = '0b6f3c52-1111-4c1e-9a39-9a0e3b7f0a11';

/** Every route with a body the OpenAPI validator accepts, so only permissions can refuse it. */
const routes: Array<
  [
    method: 'get' | 'post' | 'patch' | 'put' | 'delete',
    path: string,
    body?: object,
  ]
> = [
  ['get', '/keyring'],
  [
    'post',
    '/keyring/bootstrap',
    { passphrase: 'correct horse battery staple 42' },
  ],
  [
    'post',
    '/keyring/unlock',
    { passphrase: 'correct horse battery staple 42' },
  ],
  ['post', '/keyring/seal'],
  ['post', '/keyring/self-test'],
  ['post', '/keyring/backup', { passphrase: 'another long passphrase 42' }],
  ['post', '/keyring/backup/verify', { backup: '{}', passphrase: 'x' }],
  ['post', '/keyring/restore', { backup: '{}', passphrase: 'x' }],
  [
    'post',
    '/keyring/rotate',
    { passphrase: 'correct horse battery staple 42' },
  ],
  ['get', '/targets'],
  [
    'post',
    '/targets',
    { name: 'dev', credentials: { authKind: 'token', token: 'abc' } },
  ],
  ['get', '/targets/dev'],
  ['patch', '/targets/dev', { displayName: 'Dev' }],
  ['put', '/targets/dev/credentials', { authKind: 'token', token: 'abc' }],
  ['delete', '/targets/dev'],
  ['post', '/targets/dev/test-connection'],
  ['get', '/audit'],
  ['get', '/charts'],
  [
    'post',
    '/charts',
    { reference: 'oci://127.0.0.1:15000/charts/hello', version: '0.1.0' },
  ],
  [
    'get',
    `/charts/versions?reference=${encodeURIComponent(
      'oci://127.0.0.1:15000/charts/hello',
    )}`,
  ],
  ['get', '/charts/0b6f3c52-1111-4c1e-9a39-9a0e3b7f0a11'],
  ['delete', '/charts/0b6f3c52-1111-4c1e-9a39-9a0e3b7f0a11'],
  ['get', '/registries'],
  [
    'put',
    '/registries/127.0.0.1%3A15001/credentials',
    { username: 'u', password: 'p' },
  ],
  ['delete', '/registries/127.0.0.1%3A15001/credentials'],
  ['post', `/charts/${ID}/values/validate`, { values: {} }],
  ['get', '/profiles'],
  ['post', '/profiles', { chartId: ID, name: 'p', values: {} }],
  ['get', `/profiles/${ID}`],
  ['put', `/profiles/${ID}`, { values: {} }],
  ['delete', `/profiles/${ID}`],
  ['get', `/profiles/${ID}/revisions`],
  ['get', `/profiles/${ID}/revisions/1`],
  ['post', `/profiles/${ID}/upgrade`, { chartId: ID }],
  ['get', '/health/summary'],
  ['get', '/plans'],
  [
    'post',
    '/plans',
    {
      entityRef: 'component:default/x',
      chartId: ID,
      target: 'dev',
      namespace: 'team-a',
      releaseName: 'x',
    },
  ],
  ['get', `/plans/${ID}`],
  ['put', `/plans/${ID}`, { releaseName: 'y' }],
  ['delete', `/plans/${ID}`],
  ['post', `/plans/${ID}/dry-run`],
  ['post', `/plans/${ID}/preflight`],
  ['post', `/plans/${ID}/apply`],
  ['post', `/plans/${ID}/rollback`, { revision: 1 }],
  ['post', `/plans/${ID}/uninstall`, { confirmReleaseName: 'x' }],
  ['get', `/plans/${ID}/operations`],
  ['get', `/plans/${ID}/resources`],
  ['get', `/plans/${ID}/resources/object?kind=Pod&name=p`],
  ['get', `/plans/${ID}/history`],
  ['get', `/plans/${ID}/history/diff?fromRevision=1&toRevision=2`],
  ['get', `/plans/${ID}/change-window`],
  ['get', `/plans/${ID}/sync`],
  ['get', `/plans/${ID}/pods`],
  ['get', `/plans/${ID}/logs?pod=p`],
  ['get', `/plans/${ID}/approvals`],
  ['post', `/plans/${ID}/approvals`, { kind: 'uninstall' }],
  ['post', `/plans/${ID}/approvals/${ID}/decision`, { decision: 'approve' }],
  ['get', '/advisories'],
  ['get', `/plans/${ID}/advisories`],
  ['post', `/plans/${ID}/advisories/check`],
  ['post', `/plans/${ID}/advisories/${ID}/dismiss`, { reason: 'later' }],
  ['post', `/plans/${ID}/advisories/${ID}/plan-revision`],
  ['get', '/operations'],
  ['get', `/operations/${ID}`],
  ['get', `/operations/${ID}/lines`],
  ['post', `/operations/${ID}/cancel`],
  [
    'get',
    `/charts/versions?reference=${encodeURIComponent(
      'oci://registry.example/charts/hello',
    )}`,
  ],
  [
    'put',
    '/registries/registry.example/credentials',
    { username: 'u', password: 'p' },
  ],
  ['delete', '/registries/registry.example/credentials'],
];

describe('deploymentsPlugin', () => {
  it('answers GET /api/deployments/health without credentials', async () => {
    const { server } = await startTestBackend({
      features: [deploymentsPlugin],
    });

    const response = await request(server).get('/api/deployments/health');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it.each(databases.eachSupportedId())(
    'refuses every route when the policy denies, and audits each denial (%p)',
    async databaseId => {
      const knex = await databases.init(databaseId);
      const { server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
        ],
      });

      for (const [method, path, body] of routes) {
        const call = request(server)[method](`/api/deployments${path}`);
        const response = await (body ? call.send(body) : call);
        expect({ route: `${method} ${path}`, status: response.status }).toEqual(
          {
            route: `${method} ${path}`,
            status: 403,
          },
        );
      }

      const denials = await knex('deployments_audit_events').where({
        outcome: 'denied',
      });
      // The banner's summary is polled constantly, so it is not audited.
      expect(denials).toHaveLength(routes.length - 1);
      expect(new Set(denials.map(d => d.actor))).toEqual(
        new Set(['user:default/mock']),
      );
      // Nothing was created behind the denials.
      expect(await knex('deployments_keyring_keys')).toHaveLength(0);
      expect(await knex('deployments_targets')).toHaveLength(0);
      expect(await knex('deployments_charts')).toHaveLength(0);
      expect(await knex('deployments_registries')).toHaveLength(0);
      expect(await knex('deployments_profiles')).toHaveLength(0);
      expect(await knex('deployments_plans')).toHaveLength(0);
      expect(await knex('deployments_operations')).toHaveLength(0);
    },
  );

  it('refuses a request body the OpenAPI spec does not allow, before any work', async () => {
    const { server } = await startTestBackend({
      features: [deploymentsPlugin],
    });

    const response = await request(server)
      .post('/api/deployments/targets')
      .send({
        name: 'Not A Label',
        credentials: { authKind: 'token', token: 'x' },
        extra: 1,
      });

    expect(response.status).toBe(400);
    expect(response.body.error.name).toBe('InputError');
  });

  it.each(databases.eachSupportedId())(
    'comes up unlocked from deployments.keyring.passphrase, as every replica would (%p)',
    async databaseId => {
      const knex = await databases.init(databaseId);
      const passphrase = 'Replica auto-unlock 2026!';
      const keyring = KeyringService.create({
        store: DatabaseKeyringStore.create(
          await migrateDatabase(mockServices.database({ knex })),
        ),
        // The plugin accepts only 4096-bit keyrings, so this one is real size.
        engine: OpenPgpKeyEngine.create(),
        logger: mockServices.logger.mock(),
      });
      await keyring.bootstrap(passphrase, 'user:default/admin');

      const { server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: { deployments: { keyring: { passphrase } } },
          }),
        ],
      });

      const status = await request(server).get('/api/deployments/keyring');
      expect(status.body).toMatchObject({
        state: 'unlocked',
        unlockedBy: 'configuration',
      });
    },
  );

  it('lists only the targets a conditional decision allows (IS_TARGET_OWNER)', async () => {
    const conditional: PolicyDecision = {
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'deployments',
      resourceType: 'deployments-target',
      conditions: {
        rule: 'IS_TARGET_OWNER',
        resourceType: 'deployments-target',
        params: { claims: ['group:default/payments'] },
      },
    };
    const permissions = mockServices.permissions.mock({
      authorize: async requests =>
        requests.map(() => ({ result: AuthorizeResult.ALLOW })),
      authorizeConditional: async requests => requests.map(() => conditional),
    });
    const { server } = await startTestBackend({
      features: [deploymentsPlugin, permissions.factory],
    });
    await request(server)
      .post('/api/deployments/keyring/bootstrap')
      .send({ passphrase: 'Conditional decisions 2026!' })
      .expect(201);
    const ca =
      '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
    for (const [name, owner] of [
      ['payments-dev', 'group:default/payments'],
      ['storefront-dev', 'group:default/storefront'],
      ['unowned', ''],
    ]) {
      await request(server)
        .post('/api/deployments/targets')
        .send({
          name,
          owner,
          apiServerUrl: 'https://127.0.0.1:6443',
          caData: ca,
          allowedNamespaces: ['team-a'],
          credentials: { authKind: 'token', token: `token-${name}` },
        })
        .expect(201);
    }

    const list = await request(server).get('/api/deployments/targets');

    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual([
      'payments-dev',
    ]);
    expect(list.body.totalCount).toBe(1);
  });
});
