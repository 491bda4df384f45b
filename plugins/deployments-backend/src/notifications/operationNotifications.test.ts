/*
 * A failed apply tells its actor and the entity's owners once, through the
 * real notifications backend (its own database, its recipient resolver over
 * the catalog, its API as each user reads it), with the deployments plugin
 * against the local stack's kube-apiserver, helm and OCI registry, on
 * PostgreSQL and SQLite.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  databasePerPlugin,
  paymentsTeam,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const ALICE = 'user:default/alice';
const CAROL = 'user:default/carol';
const DAVE = 'user:default/dave';

type Server = Parameters<typeof request>[0];

const as = (user: string) => ({
  Authorization: mockCredentials.user.header(user),
});

function ensure(response: { status: number; body: unknown }, status = 201) {
  if (response.status !== status) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

async function waitFor(server: Server, operationId: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(server)
      .get(`${API}/operations/${operationId}`)
      .set(as(ALICE));
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

const entities = paymentsTeam(['alice', 'carol', 'dave']);

describe.each(databases.eachSupportedId())(
  'notifications of a failed apply (%s)',
  (databaseId: TestDatabaseId) => {
    const releaseName = `t-notify-${randomBytes(3).toString('hex')}`;
    let server: Server;
    let planId: string;

    beforeAll(async () => {
      const knexes = {
        deployments: await databases.init(databaseId),
        notifications: await databases.init(databaseId),
      };
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          notificationsPlugin,
          databasePerPlugin(knexes),
          mockServices.rootConfig.factory({
            data: {
              app: { baseUrl: 'http://localhost:3000' },
              deployments: {
                registries: { allowLoopback: true },
                operations: { heartbeatSeconds: 1 },
                notifications: { platform: ['group:default/platform'] },
              },
            },
          }),
          catalogServiceMock.factory({ entities }),
        ],
      }));
      ensure(
        await request(server)
          .post(`${API}/keyring/bootstrap`)
          .send({ passphrase: 'correct horse battery staple 42' }),
      );
      ensure(
        await request(server)
          .post(`${API}/targets`)
          .send({
            name: 'local',
            allowedNamespaces: ['team-a'],
            credentials: {
              authKind: 'kubeconfig',
              kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
            },
          }),
      );
      // Its pods ask for a node that does not exist: helm's wait times out.
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/broken`,
          version: '0.1.0',
        });
      ensure(chart);
      const plan = await request(server)
        .post(`${API}/plans`)
        .set(as(ALICE))
        .send({
          entityRef: 'component:default/payments-api',
          chartId: chart.body.id,
          target: 'local',
          namespace: 'team-a',
          releaseName,
          options: { timeoutSeconds: 10 },
        });
      ensure(plan);
      planId = plan.body.id;
    });

    afterAll(async () => {
      await runHelm(
        ['uninstall', releaseName, '-n', 'team-a', '--ignore-not-found'],
        { kubeconfig: stack.adminKubeconfigPath },
      ).catch(() => undefined);
    });

    const notificationsOf = async (user: string) => {
      const response = await request(server)
        .get('/api/notifications/notifications')
        .set(as(user));
      ensure(response, 200);
      return response.body.notifications as Array<{
        origin: string;
        user: string;
        payload: Record<string, string>;
      }>;
    };

    it('sends one notification to the actor and one to each owner, linking to the plan', async () => {
      for (const step of ['dry-run', 'preflight']) {
        const started = await request(server)
          .post(`${API}/plans/${planId}/${step}`)
          .set(as(ALICE));
        ensure(started, 202);
        expect((await waitFor(server, started.body.id)).status).toBe(
          'succeeded',
        );
      }
      const applied = await request(server)
        .post(`${API}/plans/${planId}/apply`)
        .set(as(ALICE));
      ensure(applied, 202);
      const finished = await waitFor(server, applied.body.id);
      expect(finished.status).toBe('failed');

      // Sent when the outcome is recorded, before the operation reads as finished.
      const expected = {
        origin: 'plugin:deployments',
        payload: expect.objectContaining({
          title: expect.stringMatching(
            new RegExp(`^Apply of ${releaseName} failed`),
          ),
          link: `/catalog/default/component/payments-api/deployments?plan=${planId}`,
          topic: `deployments-release:${planId}`,
          scope: `deployments-release:${planId}:apply`,
          severity: 'high',
        }),
      };
      const alice = await notificationsOf(ALICE);
      const carol = await notificationsOf(CAROL);
      expect(alice).toEqual([expect.objectContaining(expected)]);
      expect(carol).toEqual([expect.objectContaining(expected)]);
      expect(alice[0].user).toBe(ALICE);
      expect(carol[0].user).toBe(CAROL);
      // Nobody else: not a broadcast, not the platform group's members.
      expect(await notificationsOf(DAVE)).toEqual([]);
    });
  },
);
