/*
 * Security review C2: a chart's crds/ files are created verbatim by Helm on
 * a first install, so registration refuses anything in them but
 * CustomResourceDefinitions. Real registry, real helm packaging, real
 * PostgreSQL and SQLite.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const examples = resolve(__dirname, '../../../../examples/charts');

async function backend(knex: import('knex').Knex) {
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({
        data: { deployments: { registries: { allowLoopback: true } } },
      }),
    ],
  });
  return server;
}

/**
 * Packages an example chart (optionally with extra files) with helm and
 * pushes it to a repository of its own on the stack's registry.
 */
async function pushExample(
  chart: string,
  extraFiles: Record<string, string> = {},
): Promise<string> {
  const repository = `kd-crds-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'kd-chart-'));
  try {
    cpSync(join(examples, chart), join(work, chart), { recursive: true });
    for (const [path, content] of Object.entries(extraFiles)) {
      mkdirSync(join(work, chart, path, '..'), { recursive: true });
      writeFileSync(join(work, chart, path), content);
    }
    const out = join(work, 'out');
    await runHelm(['package', join(work, chart), '--destination', out]);
    await runHelm([
      'push',
      join(out, readdirSync(out)[0]),
      `oci://${stack.registry}/${repository}`,
      '--plain-http',
    ]);
    return `oci://${stack.registry}/${repository}/${chart}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const widgetsCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object}}
`;

describe.each(databases.eachSupportedId())(
  'chart registration and crds/ (%p)',
  databaseId => {
    it('refuses escape-crds, whose crds/ holds a ConfigMap for team-b, and stores nothing', async () => {
      const knex = await databases.init(databaseId);
      const server = await backend(knex);
      const reference = await pushExample('escape-crds');

      const response = await request(server)
        .post('/api/deployments/charts')
        .send({ reference, version: '0.1.0' });

      expect(response.status).toBe(400);
      expect(response.body.error.name).toBe('InputError');
      expect(response.body.error.message).toMatch(
        /^document 1 of the chart file "crds\/cm.yaml" is a ConfigMap \(v1\), not a CustomResourceDefinition/,
      );
      // Names the file and the kind, never the content.
      expect(response.body.error.message).not.toMatch(/team-b|smuggled/);
      const list = await request(server).get('/api/deployments/charts');
      expect(list.body.totalCount).toBe(0);
    });

    it('registers a chart that ships a CRD and records it in the stored metadata', async () => {
      const knex = await databases.init(databaseId);
      const server = await backend(knex);
      const reference = await pushExample('hello', {
        'crds/widgets.yaml': widgetsCrd,
      });

      const response = await request(server)
        .post('/api/deployments/charts')
        .send({ reference, version: '0.1.0' });

      expect(response.status).toBe(201);
      // Shown to users, who must install the CRDs themselves.
      expect(response.body.crds).toEqual([
        { file: 'crds/widgets.yaml', names: ['widgets.example.com'] },
      ]);
      const row = await knex('deployments_charts')
        .select('metadata')
        .where({ id: response.body.id })
        .first();
      expect(JSON.parse(row.metadata).crds).toEqual([
        { file: 'crds/widgets.yaml', names: ['widgets.example.com'] },
      ]);
    });
  },
);
