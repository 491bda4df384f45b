/*
 * Values profiles through the HTTP API, on real PostgreSQL and SQLite, with
 * hello registered from the local stack's real OCI registry.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const SECRET = 'tok-7f3c9d2e1b5a4f60';

async function setUp(knex: import('knex').Knex) {
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({
        data: { deployments: { registries: { allowLoopback: true } } },
      }),
    ],
  });
  const bootstrap = await request(server)
    .post('/api/deployments/keyring/bootstrap')
    .send({ passphrase: 'correct horse battery staple 42' });
  expect(bootstrap.status).toBe(201);
  const chart = await request(server)
    .post('/api/deployments/charts')
    .send({
      reference: `oci://${stack.registry}/charts/hello`,
      version: '0.1.0',
    });
  expect(chart.status).toBe(201);
  return { server, chartId: chart.body.id as string };
}

describe.each(databases.eachSupportedId())('profiles API (%p)', databaseId => {
  it('stores revisions, seals secrets, validates against the schema and keeps the chart', async () => {
    const knex = await databases.init(databaseId);
    const { server, chartId } = await setUp(knex);

    const created = await request(server)
      .post('/api/deployments/profiles')
      .send({
        chartId,
        name: 'staging',
        description: 'two replicas',
        values: { replicaCount: 2, greeting: 'hi', apiToken: SECRET },
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      chartId,
      name: 'staging',
      revision: 1,
      values: { replicaCount: 2, greeting: 'hi' },
      // The schema marks apiToken writeOnly: sealed without being asked.
      secretPaths: ['/apiToken'],
      valuesHash: expect.stringMatching(/^sha256:/),
    });
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const id = created.body.id;

    // YAML edit without the secret keeps it; the old revision stays readable.
    const edited = await request(server)
      .put(`/api/deployments/profiles/${id}`)
      .send({
        valuesYaml: 'replicaCount: 3\ngreeting: hello\n',
        expectedRevision: 1,
      });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      revision: 2,
      values: { replicaCount: 3, greeting: 'hello' },
      secretPaths: ['/apiToken'],
    });
    expect(edited.body.valuesHash).not.toBe(created.body.valuesHash);
    const first = await request(server).get(
      `/api/deployments/profiles/${id}/revisions/1`,
    );
    expect(first.body.values).toEqual({ replicaCount: 2, greeting: 'hi' });
    const revisions = await request(server).get(
      `/api/deployments/profiles/${id}/revisions`,
    );
    expect(
      revisions.body.items.map((r: { revision: number }) => r.revision),
    ).toEqual([2, 1]);

    // A stale edit is a conflict, and nothing changes.
    const stale = await request(server)
      .put(`/api/deployments/profiles/${id}`)
      .send({
        values: { replicaCount: 1, greeting: 'x' },
        expectedRevision: 1,
      });
    expect(stale.status).toBe(409);

    // Every violation is listed with its path; nothing is stored.
    const invalid = await request(server)
      .put(`/api/deployments/profiles/${id}`)
      .send({
        values: {
          replicaCount: 50,
          greeting: '',
          logLevel: 'loud',
          surprise: 1,
        },
      });
    expect(invalid.status).toBe(400);
    for (const path of [
      '/replicaCount',
      '/greeting',
      '/logLevel',
      '/surprise',
    ]) {
      expect(invalid.body.error.message).toContain(path);
    }
    const validate = await request(server)
      .post(`/api/deployments/charts/${chartId}/values/validate`)
      .send({ values: { replicaCount: 50, image: { tag: '' } } });
    expect(validate.body.violations).toEqual(
      expect.arrayContaining([
        {
          path: '/replicaCount',
          title: 'Replicas',
          message: 'must be at most 10',
        },
        {
          path: '/image/tag',
          title: 'Tag',
          message: 'must be at least 1 character(s) long',
        },
      ]),
    );
    expect(
      (await request(server).get(`/api/deployments/profiles/${id}`)).body
        .revision,
    ).toBe(2);

    // Hostile YAML is refused fast.
    const bomb = await request(server)
      .put(`/api/deployments/profiles/${id}`)
      .send({
        valuesYaml: `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
          { length: 30 },
          (_, i) => `k${i}: [*a,*a,*a,*a,*a,*a,*a,*a,*a]`,
        ).join('\n')}\n`,
      });
    expect(bomb.status).toBe(400);

    // The secret is nowhere in the database in plain text or base64.
    const rows = JSON.stringify(
      await knex('deployments_profile_revisions').select(),
    );
    expect(rows).not.toContain(SECRET);
    expect(rows).not.toContain(Buffer.from(SECRET).toString('base64'));

    // A chart a profile uses cannot be deleted.
    const deleteChart = await request(server).delete(
      `/api/deployments/charts/${chartId}`,
    );
    expect(deleteChart.status).toBe(409);
    expect(deleteChart.body.error.message).toContain('values profile');

    const list = await request(server)
      .get('/api/deployments/profiles')
      .query({ chartId });
    expect(list.body.totalCount).toBe(1);

    expect(
      (await request(server).delete(`/api/deployments/profiles/${id}`)).status,
    ).toBe(204);
    expect(
      (await request(server).get(`/api/deployments/profiles/${id}`)).status,
    ).toBe(404);
    expect(
      (await request(server).delete(`/api/deployments/charts/${chartId}`))
        .status,
    ).toBe(204);
  });

  it('refuses a duplicate name for one chart and an unknown chart', async () => {
    const { server, chartId } = await setUp(await databases.init(databaseId));
    const values = { greeting: 'hi' };
    expect(
      (
        await request(server)
          .post('/api/deployments/profiles')
          .send({ chartId, name: 'a', values })
      ).status,
    ).toBe(201);
    const duplicate = await request(server)
      .post('/api/deployments/profiles')
      .send({ chartId, name: 'a', values });
    expect(duplicate.status).toBe(409);
    const unknown = await request(server)
      .post('/api/deployments/profiles')
      .send({
        chartId: '00000000-0000-4000-8000-000000000000',
        name: 'b',
        values,
      });
    expect(unknown.status).toBe(400);
  });
});
