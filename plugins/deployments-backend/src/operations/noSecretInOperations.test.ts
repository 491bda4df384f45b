/*
 * "Redaction everywhere": a profile's secret value that a chart copies into
 * a ConfigMap, an annotation, an env var and NOTES (plain and b64enc) goes
 * through a dry-run, a preflight and an apply against the local stack; then
 * every row of every table, every API answer about the operations and every
 * log line is searched for it as is, in base64 and in hex. On PostgreSQL and
 * SQLite. Failures name where a form was found, never the secret.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { deploymentsPlugin } from '../plugin';
import { createCapturingRootLogger } from '../__testUtils__/capturingLogger';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const CHART = 'secret-echo';
const CHART_DIR = resolve(__dirname, '../../../../examples/charts', CHART);
const suffix = randomBytes(3).toString('hex');
const installed: string[] = [];

/** The secret in each form a chart or a tool could echo it in, by name. */
function formsOf(secret: string): Array<[string, string]> {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    ['plain', secret],
    ['base64', bytes.toString('base64')],
    ['base64url', bytes.toString('base64url')],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
  ];
}

/** Where a form of the secret occurs, as "where: form"; never the text itself. */
function findForms(
  forms: Array<[string, string]>,
  where: string,
  text: string,
): string[] {
  return forms
    .filter(([, form]) => text.includes(form))
    .map(([name]) => `${where}: ${name}`);
}

/** A text fit to print in a failure: every form of the secret blanked out. */
function scrub(forms: Array<[string, string]>, text: string): string {
  // Longest first: base64url is a prefix of base64.
  return [...forms]
    .sort(([, a], [, b]) => b.length - a.length)
    .reduce(
      (scrubbed, [name, form]) => scrubbed.split(form).join(`<${name}>`),
      text,
    );
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Every column of every row of every table, searched as text. */
async function searchEveryTable(
  knex: Knex,
  forms: Array<[string, string]>,
): Promise<{ hits: string[]; tables: string[]; rows: number }> {
  const client = knex.client.config.client as string;
  const tables: string[] =
    client === 'pg'
      ? (
          await knex.raw(
            `select tablename from pg_tables where schemaname = current_schema()`,
          )
        ).rows.map((r: { tablename: string }) => r.tablename)
      : (
          await knex.raw(`select name from sqlite_master where type = 'table'`)
        ).map((r: { name: string }) => r.name);
  const hits: string[] = [];
  let rows = 0;
  for (const table of tables) {
    const records: Array<Record<string, unknown>> = await knex(table).select();
    for (const [index, record] of records.entries()) {
      rows += 1;
      for (const [column, value] of Object.entries(record)) {
        hits.push(
          ...findForms(forms, `${table}[${index}].${column}`, asText(value)),
        );
      }
    }
  }
  return { hits, tables, rows };
}

async function waitFor(server: Server, operationId: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(server).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(r => setTimeout(r, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

/** Setup steps must succeed; a failure names the step and status only. */
function expectStatus(
  step: string,
  response: { status: number },
  status: number,
) {
  expect({ step, status: response.status }).toEqual({ step, status });
}

beforeAll(async () => {
  // scripts/stack pushes the charts it knows; this one is pushed here when
  // the stack did not (pushing the same chart again is harmless).
  if (stack.pushedDigests.has(`${stack.registry}/${CHART}`)) return;
  const dir = mkdtempSync(join(tmpdir(), 'kd-chart-'));
  try {
    await runHelm(['package', CHART_DIR, '-d', dir]);
    await runHelm([
      'push',
      join(dir, `${CHART}-0.1.0.tgz`),
      `oci://${stack.registry}/charts`,
      '--plain-http',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  for (const release of installed) {
    await runHelm(
      ['uninstall', release, '-n', 'team-a', '--ignore-not-found'],
      { kubeconfig: stack.adminKubeconfigPath },
    ).catch(() => undefined);
  }
});

describe.each(databases.eachSupportedId())(
  'no profile secret in operations (%p)',
  databaseId => {
    it('stores and shows a secret the chart copies around only redacted, after dry-run, preflight and apply', async () => {
      // A secret nobody else will ever print; the schema marks it writeOnly.
      const secret = `kd-echo-${randomBytes(16).toString('hex')}`;
      const forms = formsOf(secret);
      const releaseName = `t-echo-${suffix}-${databaseId
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')}`;
      installed.push(releaseName);

      const knex = await databases.init(databaseId);
      const logs = createCapturingRootLogger();
      const { server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          logs.factory,
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
                metadata: { name: 'echo', namespace: 'default' },
                spec: { type: 'service', lifecycle: 'test', owner: 'team' },
              },
            ],
          }),
        ],
      });

      expectStatus(
        'bootstrap',
        await request(server)
          .post(`${API}/keyring/bootstrap`)
          .send({ passphrase: 'Redaction everywhere 2026!' }),
        201,
      );
      expectStatus(
        'target',
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
        201,
      );
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/${CHART}`,
          version: '0.1.0',
        });
      expectStatus('chart', chart, 201);
      const profile = await request(server)
        .post(`${API}/profiles`)
        .send({
          chartId: chart.body.id,
          name: `echo-${suffix}`,
          values: { password: secret },
        });
      expectStatus('profile', profile, 201);
      // The schema's writeOnly made it a sealed secret, not a plain value.
      expect(profile.body.secretPaths).toEqual(['/password']);
      const plan = await request(server)
        .post(`${API}/plans`)
        .send({
          entityRef: 'component:default/echo',
          chartId: chart.body.id,
          target: 'local',
          namespace: 'team-a',
          releaseName,
          profileId: profile.body.id,
          options: { timeoutSeconds: 120 },
        });
      expectStatus('plan', plan, 201);
      const planId: string = plan.body.id;

      const operations: Array<Record<string, unknown>> = [];
      for (const step of ['dry-run', 'preflight', 'apply']) {
        const started = await request(server)
          .post(`${API}/plans/${planId}/${step}`)
          .send({});
        expectStatus(step, started, 202);
        const finished = await waitFor(server, started.body.id);
        // The error is shown with every form of the secret blanked out.
        expect({
          step,
          status: finished.status,
          error: scrub(forms, String(finished.error ?? '')),
        }).toEqual({ step, status: 'succeeded', error: '' });
        operations.push(finished);
      }

      // The chart really copied the secret around: helm's own record of the
      // release holds it, so the redaction below is not vacuous.
      const kubeconfig = stack.adminKubeconfigPath;
      const notes = await runHelm(
        ['get', 'notes', releaseName, '-n', 'team-a'],
        { kubeconfig },
      );
      const manifest = await runHelm(
        ['get', 'manifest', releaseName, '-n', 'team-a'],
        { kubeconfig },
      );
      expect(findForms(forms, 'helm notes', notes.stdout)).toEqual(
        expect.arrayContaining(['helm notes: plain', 'helm notes: base64']),
      );
      expect(findForms(forms, 'helm manifest', manifest.stdout)).toEqual(
        expect.arrayContaining([
          'helm manifest: plain',
          'helm manifest: base64',
        ]),
      );

      // What the dry-run shows: the copies are there, redacted. Compared
      // scrubbed, so that a failure shows where, not the secret.
      const dryRun = JSON.parse(
        scrub(forms, JSON.stringify(operations[0].result)),
      ) as {
        notes?: string;
        objects: Array<{ kind: string; manifest?: string }>;
      };
      expect(dryRun.notes?.trim()).toBe(
        'The password is (redacted) (base64 (redacted)).',
      );
      const configMap = dryRun.objects.find(o => o.kind === 'ConfigMap');
      const deployment = dryRun.objects.find(o => o.kind === 'Deployment');
      expect(parseYaml(configMap?.manifest ?? '')).toMatchObject({
        metadata: {
          annotations: { 'echo.kubedeploy.dev/password': '(redacted)' },
        },
        data: {
          password: '(redacted)',
          'password.b64': '(redacted)',
          dsn: 'postgres://app:(redacted)@db:5432/app',
        },
      });
      expect(parseYaml(deployment?.manifest ?? '')).toMatchObject({
        spec: {
          template: {
            spec: {
              containers: [
                {
                  env: [
                    { name: 'PASSWORD', value: '(redacted)' },
                    { name: 'PASSWORD_B64', value: '(redacted)' },
                  ],
                },
              ],
            },
          },
        },
      });

      // Everything the API says about the plan and its operations.
      const answers: Array<[string, unknown]> = [];
      for (const path of [
        `/plans/${planId}`,
        `/plans/${planId}/operations`,
        `/plans/${planId}/history`,
        `/plans/${planId}/resources`,
        '/operations',
        '/audit',
        ...operations.flatMap(o => [
          `/operations/${o.id}`,
          `/operations/${o.id}/lines`,
        ]),
      ]) {
        const response = await request(server).get(`${API}${path}`);
        expectStatus(path, response, 200);
        answers.push([path, response.body]);
      }
      const apiHits = answers.flatMap(([path, body]) =>
        findForms(forms, `GET ${path}`, JSON.stringify(body)),
      );
      expect(apiHits).toEqual([]);
      const lines = answers
        .filter(([path]) => path.endsWith('/lines'))
        .flatMap(([, body]) => (body as { items: unknown[] }).items);
      expect(lines.length).toBeGreaterThan(3);

      const { hits, tables, rows } = await searchEveryTable(knex, forms);
      expect(tables).toEqual(
        expect.arrayContaining([
          'deployments_operations',
          'deployments_operation_lines',
          'deployments_plans',
          'deployments_profile_revisions',
        ]),
      );
      expect(rows).toBeGreaterThan(10);
      expect(hits).toEqual([]);

      const logHits = logs.lines.flatMap((line, index) =>
        findForms(forms, `log line ${index}`, line),
      );
      expect(logs.lines.length).toBeGreaterThan(5);
      expect(logHits).toEqual([]);
    });
  },
);
