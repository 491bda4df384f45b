/*
 * A values profile follows its chart to a new version: two versions of a
 * chart built from hello and pushed to the local stack's OCI registry (the
 * second drops `debug`, adds `tracing` and lowers the replica maximum),
 * upgraded through the HTTP API on PostgreSQL and SQLite. The secret comes
 * along sealed (the stored revision opens to the same secret; no plaintext
 * in any table), the dropped and added keys are reported, and values the
 * new schema refuses are listed with nothing stored.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DatabaseKeyringStore } from '../keyring/DatabaseKeyringStore';
import { KeyringService } from '../keyring/KeyringService';
import { deploymentsPlugin } from '../plugin';
import { SecretsService } from '../secrets/SecretsService';
import { requireLocalStack } from '../__testUtils__/localStack';
import { pushChartVersion } from '../__testUtils__/pushChartVersion';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(300_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const PASSPHRASE = 'correct horse battery staple 42';
const SECRET = `tok-${randomBytes(8).toString('hex')}`;
const chartName = `upgrade-${randomBytes(3).toString('hex')}`;

type Server = Parameters<typeof request>[0];

function ensure(response: { status: number; body: unknown }, status = 201) {
  if (response.status !== status) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

/** Every column of every table, as text, searched for the secret in plain and base64. */
async function tablesHolding(knex: Knex, secret: string): Promise<string[]> {
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
  const forms = [secret, Buffer.from(secret).toString('base64')];
  const hits: string[] = [];
  for (const table of tables) {
    for (const row of await knex(table).select()) {
      for (const [column, value] of Object.entries(row)) {
        const text = Buffer.isBuffer(value)
          ? value.toString('latin1')
          : String(value);
        if (forms.some(form => text.includes(form))) {
          hits.push(`${table}.${column}`);
        }
      }
    }
  }
  return hits;
}

beforeAll(async () => {
  const push = (
    version: string,
    edit?: Parameters<typeof pushChartVersion>[0]['edit'],
  ) =>
    pushChartVersion({
      stack,
      example: 'hello',
      name: chartName,
      version,
      edit,
    });
  await push('0.1.0');
  await push('0.2.0', ({ values, schema, templates }) => {
    const properties = { ...schema.properties };
    delete properties.debug;
    properties.tracing = {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean', default: false } },
    };
    properties.replicaCount = { ...properties.replicaCount, maximum: 3 };
    return {
      values: `${values.replace(
        /^debug: .*$/m,
        '',
      )}\ntracing:\n  enabled: false\n`,
      schema: { ...schema, properties },
      templates,
    };
  });
});

describe.each(databases.eachSupportedId())(
  'upgrading a profile across chart versions (%s)',
  databaseId => {
    let knex: Knex;
    let server: Server;
    let fromChart: string;
    let toChart: string;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: { deployments: { registries: { allowLoopback: true } } },
          }),
        ],
      }));
      ensure(
        await request(server)
          .post(`${API}/keyring/bootstrap`)
          .send({ passphrase: PASSPHRASE }),
      );
      const charts = [];
      for (const version of ['0.1.0', '0.2.0']) {
        const chart = await request(server)
          .post(`${API}/charts`)
          .send({
            reference: `oci://${stack.registry}/charts/${chartName}`,
            version,
          });
        ensure(chart);
        charts.push(chart.body.id as string);
      }
      [fromChart, toChart] = charts;
    });

    it('keeps the secret sealed, reports the dropped and added keys, and records a new revision', async () => {
      const created = await request(server)
        .post(`${API}/profiles`)
        .send({
          chartId: fromChart,
          name: 'prod',
          values: { replicaCount: 2, apiToken: SECRET },
        });
      ensure(created);
      const id = created.body.id as string;

      const preview = await request(server)
        .post(`${API}/profiles/${id}/upgrade`)
        .send({ chartId: toChart, dryRun: true });
      expect(preview.status).toBe(200);
      expect(preview.body.profile).toBeUndefined();
      expect(
        (await request(server).get(`${API}/profiles/${id}`)).body.revision,
      ).toBe(1);

      const upgraded = await request(server)
        .post(`${API}/profiles/${id}/upgrade`)
        .send({ chartId: toChart, expectedRevision: 1 });
      expect(upgraded.status).toBe(200);
      expect(upgraded.body.report).toEqual({
        fromChartId: fromChart,
        fromVersion: '0.1.0',
        toChartId: toChart,
        toVersion: '0.2.0',
        droppedKeys: ['/debug'],
        droppedProfileKeys: [],
        addedKeys: ['/tracing'],
        violations: [],
        secretPaths: ['/apiToken'],
      });
      expect(preview.body.report).toEqual(upgraded.body.report);
      expect(upgraded.body.profile).toMatchObject({
        chartId: toChart,
        revision: 2,
        values: { replicaCount: 2 },
        secretPaths: ['/apiToken'],
      });
      expect(JSON.stringify(upgraded.body)).not.toContain(SECRET);

      // The new revision's sealed secret opens, with a keyring of its own
      // over the same tables, to the very secret typed at revision 1.
      const row = await knex('deployments_profile_revisions')
        .where({ profile_id: id, revision: 2 })
        .first();
      expect(row.chart_id).toBe(toChart);
      const keyring = KeyringService.create({
        store: DatabaseKeyringStore.create(knex),
        logger: mockServices.logger.mock(),
      });
      await keyring.unlock(PASSPHRASE);
      const opened = await SecretsService.create({ keyring }).open(
        { type: 'profile-secrets', id, version: 2 },
        row.secrets_sealed,
      );
      expect(JSON.parse(opened.toString('utf8'))).toEqual({
        '/apiToken': SECRET,
      });
      expect(await tablesHolding(knex, SECRET)).toEqual([]);

      const revisions = await request(server).get(
        `${API}/profiles/${id}/revisions`,
      );
      expect(
        revisions.body.items.map((r: { revision: number; chartId: string }) => [
          r.revision,
          r.chartId,
        ]),
      ).toEqual([
        [2, toChart],
        [1, fromChart],
      ]);
    });

    it('refuses values the new schema does not accept, listing each with its path, and stores nothing', async () => {
      const created = await request(server)
        .post(`${API}/profiles`)
        .send({
          chartId: fromChart,
          name: 'big',
          values: { replicaCount: 5, debug: true },
        });
      ensure(created);
      const id = created.body.id as string;

      const preview = await request(server)
        .post(`${API}/profiles/${id}/upgrade`)
        .send({ chartId: toChart, dryRun: true });
      expect(preview.status).toBe(200);
      expect(preview.body.report.droppedProfileKeys).toEqual(['/debug']);
      expect(
        preview.body.report.violations.map((v: { path: string }) => v.path),
      ).toEqual(expect.arrayContaining(['/replicaCount']));
      expect(preview.body.report.violations.length).toBeGreaterThanOrEqual(2);

      const refused = await request(server)
        .post(`${API}/profiles/${id}/upgrade`)
        .send({ chartId: toChart });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain('/replicaCount');
      expect(refused.body.error.message).toMatch(/debug/);

      const stored = await request(server).get(`${API}/profiles/${id}`);
      expect(stored.body).toMatchObject({ chartId: fromChart, revision: 1 });
      expect(
        await knex('deployments_profile_revisions').where({ profile_id: id }),
      ).toHaveLength(1);
    });

    it('moves only between versions of the same chart', async () => {
      const other = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      ensure(other);
      const created = await request(server)
        .post(`${API}/profiles`)
        .send({ chartId: fromChart, name: 'small', values: {} });
      ensure(created);
      const refused = await request(server)
        .post(`${API}/profiles/${created.body.id}/upgrade`)
        .send({ chartId: other.body.id });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain('is not a version of');
    });
  },
);
