/*
 * GET /plans/{id}/resources and /resources/object through the running
 * plugin, on PostgreSQL and SQLite, against hello applied to the local
 * cluster with a sealed API token that the chart also copies into its
 * ConfigMap: the tree's owners, a Secret shown without its values, the
 * copy redacted, anything not the release's answered 404, and a namespace
 * the target no longer allows refused.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { deploymentsPlugin } from '../plugin';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const suffix = randomBytes(3).toString('hex');
const TOKEN = `route-token-${suffix}-Wm5`;

type Server = Parameters<typeof request>[0];

async function waitFor(server: Server, operationId: string) {
  for (let i = 0; i < 1200; i++) {
    const response = await request(server).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

async function expectCreated(what: string, pending: request.Test) {
  const response = await pending;
  if (response.status !== 201) {
    throw new Error(`${what}: ${response.status} ${response.text}`);
  }
  return response.body;
}

describe.each(databases.eachSupportedId())(
  'a release’s objects through the API (%s)',
  databaseId => {
    const releaseName = `t-objr-${databaseId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8)}-${suffix}`;
    let server: Server;
    let planId: string;

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: { deployments: { registries: { allowLoopback: true } } },
          }),
          catalogServiceMock.factory({
            entities: [
              {
                apiVersion: 'backstage.io/v1alpha1',
                kind: 'Component',
                metadata: { name: 'payments-api', namespace: 'default' },
                spec: { type: 'service', lifecycle: 'production', owner: 'x' },
              },
            ],
          }),
        ],
      }));
      await expectCreated(
        'keyring',
        request(server)
          .post(`${API}/keyring/bootstrap`)
          .send({ passphrase: 'correct horse battery staple 42' }),
      );
      await expectCreated(
        'target',
        request(server)
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
      const chart = await expectCreated(
        'chart',
        request(server)
          .post(`${API}/charts`)
          .send({
            reference: `oci://${stack.registry}/charts/hello`,
            version: '0.1.0',
          }),
      );
      const profile = await expectCreated(
        'profile',
        request(server)
          .post(`${API}/profiles`)
          .send({
            chartId: chart.id,
            name: `objr-${suffix}`,
            values: { apiToken: TOKEN, greeting: `hello ${TOKEN}` },
          }),
      );
      const plan = await expectCreated(
        'plan',
        request(server)
          .post(`${API}/plans`)
          .send({
            entityRef: 'component:default/payments-api',
            chartId: chart.id,
            target: 'local',
            namespace: 'team-a',
            releaseName,
            profileId: profile.id,
            options: { timeoutSeconds: 120 },
          }),
      );
      planId = plan.id;
      for (const step of ['dry-run', 'preflight', 'apply']) {
        const started = await request(server).post(
          `${API}/plans/${planId}/${step}`,
        );
        const done = await waitFor(server, started.body.id);
        if (done.status !== 'succeeded') {
          throw new Error(`${step}: ${done.status} ${done.error}`);
        }
      }
    });

    afterAll(async () => {
      await runHelm(
        ['uninstall', releaseName, '-n', 'team-a', '--ignore-not-found'],
        { kubeconfig: stack.adminKubeconfigPath },
      ).catch(() => undefined);
    });

    const object = (kind: string, name: string) =>
      request(server)
        .get(`${API}/plans/${planId}/resources/object`)
        .query({ kind, name });

    it('shows the tree’s owners, objects without Secret values, and 404 for anything else', async () => {
      const resources = await request(server).get(
        `${API}/plans/${planId}/resources`,
      );
      expect(resources.status).toBe(200);
      const [replicaSet] = resources.body.replicaSets;
      expect(replicaSet).toMatchObject({ owner: `Deployment/${releaseName}` });
      expect(resources.body.pods[0].owners).toEqual([
        `ReplicaSet/${replicaSet.name}`,
      ]);

      const secret = await object('Secret', releaseName);
      expect(secret.status).toBe(200);
      expect(parseYaml(secret.body.yaml).data).toEqual({
        apiToken: '(hidden)',
      });
      const configMap = await object('ConfigMap', releaseName);
      expect(configMap.status).toBe(200);
      expect(configMap.body.yaml).toContain('hello [redacted]');
      for (const body of [secret.text, configMap.text]) {
        expect(body).not.toContain(TOKEN);
        expect(body).not.toContain(Buffer.from(TOKEN).toString('base64'));
      }
      expect((await object('Pod', resources.body.pods[0].name)).status).toBe(
        200,
      );
      expect((await object('ReplicaSet', replicaSet.name)).status).toBe(200);

      for (const [kind, name] of [
        ['Secret', 'deployer-token'],
        ['ServiceAccount', 'deployer'],
        ['Namespace', 'team-a'],
      ]) {
        const refused = await object(kind, name);
        expect({ kind, status: refused.status }).toEqual({ kind, status: 404 });
      }
      expect((await object('Secret', '../etc')).status).toBe(400);
    });

    it('refuses to read a namespace the target no longer allows', async () => {
      const narrowed = await request(server)
        .patch(`${API}/targets/local`)
        .send({ allowedNamespaces: ['team-b'] });
      expect(narrowed.status).toBe(200);
      try {
        for (const path of [
          'resources',
          'resources/object?kind=Secret&name=x',
        ]) {
          const refused = await request(server).get(
            `${API}/plans/${planId}/${path}`,
          );
          expect({
            path,
            status: refused.status,
            message: refused.body.error?.message,
          }).toEqual({
            path,
            status: 403,
            message: 'Target local no longer allows namespace team-a',
          });
        }
      } finally {
        await request(server)
          .patch(`${API}/targets/local`)
          .send({ allowedNamespaces: ['team-a'] });
      }
    });
  },
);
