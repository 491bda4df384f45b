/*
 * Values across revisions, against the local stack's kube-apiserver, helm
 * and OCI registry, on PostgreSQL and SQLite: two versions of a chart built
 * from hello (the first copies the API token into its ConfigMap, as careless
 * charts do; the second drops `debug` and adds `tracing`), a profile whose
 * greeting and secret change between two applies, then a move to the new
 * chart version. The dry-run shows the values diff and the default-values
 * diff; the history shows chart version, values revision and actor of each
 * revision, and the diff of two revisions; no secret appears anywhere.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { pushChartVersion } from '../__testUtils__/pushChartVersion';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const ALICE = 'user:default/alice';
const chartName = `revs-${randomBytes(3).toString('hex')}`;
const SECRET_ONE = `first-${randomBytes(8).toString('hex')}`;
const SECRET_TWO = `second-${randomBytes(8).toString('hex')}`;

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

/** Every form a secret could take in a response: plain and base64. */
function expectNoSecret(body: unknown) {
  const text = JSON.stringify(body);
  for (const secret of [SECRET_ONE, SECRET_TWO]) {
    for (const form of [secret, Buffer.from(secret).toString('base64')]) {
      if (text.includes(form)) {
        const at = text.indexOf(form);
        throw new Error(
          `${
            secret === SECRET_ONE ? 'the first' : 'the second'
          } secret appears: …${text.slice(Math.max(0, at - 300), at + 40)}…`,
        );
      }
    }
  }
}

beforeAll(async () => {
  await pushChartVersion({
    stack,
    example: 'hello',
    name: chartName,
    version: '0.1.0',
    edit: files => ({
      ...files,
      templates: {
        ...files.templates,
        'configmap.yaml': files.templates['configmap.yaml'].replace(
          '\ndata:\n',
          '\ndata:\n  tokenCopy: {{ .Values.apiToken | default "" | quote }}\n',
        ),
      },
    }),
  });
  await pushChartVersion({
    stack,
    example: 'hello',
    name: chartName,
    version: '0.2.0',
    edit: ({ values, schema, templates }) => {
      const properties = { ...schema.properties };
      delete properties.debug;
      properties.tracing = {
        type: 'object',
        additionalProperties: false,
        properties: { enabled: { type: 'boolean', default: false } },
      };
      return {
        values: `${values.replace(
          /^debug: .*$/m,
          '',
        )}\ntracing:\n  enabled: false\n`,
        schema: { ...schema, properties },
        templates: {
          ...templates,
          'deployment.yaml': templates['deployment.yaml'].replace(
            '{{ .Values.debug | quote }}',
            '"false"',
          ),
        },
      };
    },
  });
});

describe.each(databases.eachSupportedId())(
  'release revisions and their values (%s)',
  databaseId => {
    const releaseName = `t-revs-${randomBytes(3).toString('hex')}`;
    let server: Server;
    let planId: string;
    let profileId: string;
    let charts: string[];

    const step = async (name: string) => {
      const started = await request(server)
        .post(`${API}/plans/${planId}/${name}`)
        .set(as(ALICE));
      ensure(started, 202);
      for (let i = 0; i < 600; i++) {
        const operation = await request(server)
          .get(`${API}/operations/${started.body.id}`)
          .set(as(ALICE));
        if (operation.body.status !== 'running') {
          if (operation.body.status !== 'succeeded') {
            throw new Error(
              `${name} ended ${operation.body.status}: ${operation.body.error}`,
            );
          }
          return operation.body;
        }
        await new Promise(resolve => setTimeout(resolve, 500));
      }
      throw new Error(`${name} did not finish`);
    };

    beforeAll(async () => {
      const knex = await databases.init(databaseId);
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
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
      charts = [];
      for (const version of ['0.1.0', '0.2.0']) {
        const chart = await request(server)
          .post(`${API}/charts`)
          .send({
            reference: `oci://${stack.registry}/charts/${chartName}`,
            version,
          });
        ensure(chart);
        charts.push(chart.body.id);
      }
      const profile = await request(server)
        .post(`${API}/profiles`)
        .set(as(ALICE))
        .send({
          chartId: charts[0],
          name: 'payments',
          values: { greeting: 'one', apiToken: SECRET_ONE },
        });
      ensure(profile);
      profileId = profile.body.id;
      const plan = await request(server)
        .post(`${API}/plans`)
        .set(as(ALICE))
        .send({
          entityRef: 'component:default/payments-api',
          chartId: charts[0],
          target: 'local',
          namespace: 'team-a',
          releaseName,
          profileId,
          options: { timeoutSeconds: 120 },
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

    it('shows values diffs in dry-runs and between history revisions, never a secret', async () => {
      // Nothing deployed yet: nothing to compare.
      const first = await step('dry-run');
      expect(first.result.valuesChange).toBeUndefined();
      await step('preflight');
      await step('apply');

      // Revision 2 of the profile: another greeting and another secret.
      ensure(
        await request(server)
          .put(`${API}/profiles/${profileId}`)
          .set(as(ALICE))
          .send({
            values: { greeting: 'two', apiToken: SECRET_TWO },
            secretPaths: ['/apiToken'],
          }),
        200,
      );
      const second = await step('dry-run');
      expectNoSecret(second);
      const change = second.result.valuesChange;
      expect(change).toMatchObject({
        deployed: {
          revision: 1,
          chartVersion: '0.1.0',
          profileRevision: 1,
          actor: ALICE,
          recorded: true,
        },
        notes: [],
      });
      expect(change.chartMove).toBeUndefined();
      expect(change.valuesDiff).toContain('-greeting: one');
      expect(change.valuesDiff).toContain('+greeting: two');
      // The secret changed: its marker did, its value is nowhere.
      expect(change.valuesDiff).toMatch(/-apiToken: \(secret\) \(hmac-sha256:/);
      expect(change.valuesDiff).toMatch(
        /\+apiToken: \(secret\) \(hmac-sha256:/,
      );
      await step('preflight');
      await step('apply');

      // The profile follows the chart to 0.2.0; the plan moves with it.
      const upgraded = await request(server)
        .post(`${API}/profiles/${profileId}/upgrade`)
        .set(as(ALICE))
        .send({ chartId: charts[1] });
      ensure(upgraded, 200);
      ensure(
        await request(server)
          .put(`${API}/plans/${planId}`)
          .set(as(ALICE))
          .send({ chartId: charts[1] }),
        200,
      );
      const moved = await step('dry-run');
      expectNoSecret(moved);
      expect(moved.result.valuesChange).toMatchObject({
        deployed: { revision: 2, chartVersion: '0.1.0', profileRevision: 2 },
        chartMove: { fromVersion: '0.1.0', toVersion: '0.2.0' },
      });
      const defaults = moved.result.valuesChange.chartMove.defaultValuesDiff;
      expect(defaults).toContain('-debug: false');
      expect(defaults).toContain('+tracing:');
      // Same values (revision 3 re-sealed the same secret): no values diff.
      expect(moved.result.valuesChange.valuesDiff).toBeUndefined();

      const history = await request(server)
        .get(`${API}/plans/${planId}/history`)
        .set(as(ALICE));
      ensure(history, 200);
      expect(history.body.items).toEqual([
        expect.objectContaining({
          revision: 2,
          chartVersion: '0.1.0',
          profileRevision: 2,
          actor: ALICE,
        }),
        expect.objectContaining({
          revision: 1,
          chartVersion: '0.1.0',
          profileRevision: 1,
          actor: ALICE,
        }),
      ]);

      const diff = await request(server)
        .get(`${API}/plans/${planId}/history/diff`)
        .query({ fromRevision: 1, toRevision: 2 })
        .set(as(ALICE));
      ensure(diff, 200);
      expectNoSecret(diff.body);
      expect(diff.body.from).toMatchObject({ revision: 1, profileRevision: 1 });
      expect(diff.body.to).toMatchObject({ revision: 2, profileRevision: 2 });
      expect(diff.body.valuesDiff).toContain('+greeting: two');
      const byKind = (kind: string) =>
        diff.body.objects.find((o: { key: string }) =>
          o.key.startsWith(`v1/${kind}/`),
        );
      expect(byKind('ConfigMap')).toMatchObject({ change: 'changed' });
      expect(byKind('ConfigMap').diff).toContain('+  greeting: two');
      // The chart copied the token into the ConfigMap: redacted there too.
      expect(byKind('ConfigMap').diff).toContain('[redacted]');
      expect(byKind('Secret')).toMatchObject({ change: 'changed' });
      expect(byKind('Secret').diff).toContain('(hmac-sha256:');

      const unknown = await request(server)
        .get(`${API}/plans/${planId}/history/diff`)
        .query({ fromRevision: 1, toRevision: 9 })
        .set(as(ALICE));
      expect(unknown.status).toBe(404);
    });
  },
);
