/*
 * Two replicas of the backend on one PostgreSQL database, against the local
 * stack: concurrent applies of one release spread over both run exactly
 * once (the others get 409 naming the running operation), and an apply
 * started on one replica is followed live and read from the other.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const PASSPHRASE = 'correct horse battery staple 42';
const suffix = randomBytes(3).toString('hex');

async function replica(knex: Knex) {
  const { server } = await startTestBackend({
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
  });
  return server as Server;
}

async function finished(server: Server, operationId: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(server).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

async function run(server: Server, planId: string, step: string) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .send({});
  expect({ step, status: started.status }).toEqual({ step, status: 202 });
  const done = await finished(server, started.body.id);
  expect({ step, status: done.status }).toEqual({ step, status: 'succeeded' });
}

describe('two replicas on one PostgreSQL database', () => {
  let a: Server;
  let b: Server;
  const releaseName = `t-replicas-${suffix}`;

  beforeAll(async () => {
    const knex = await databases.init(databases.eachSupportedId()[0][0]);
    a = await replica(knex);
    b = await replica(knex);
    const bootstrapped = await request(a)
      .post(`${API}/keyring/bootstrap`)
      .send({ passphrase: PASSPHRASE });
    if (bootstrapped.status !== 201) {
      throw new Error(`bootstrap answered ${bootstrapped.status}`);
    }
    // B follows the keyring the database holds; unlocking it there too is
    // either done or already true.
    const unlocked = await request(b)
      .post(`${API}/keyring/unlock`)
      .send({ passphrase: PASSPHRASE });
    if (![200, 409].includes(unlocked.status)) {
      throw new Error(`unlock on B answered ${unlocked.status}`);
    }
  });

  afterAll(async () => {
    await runHelm(
      ['uninstall', releaseName, '-n', 'team-a', '--ignore-not-found'],
      {
        kubeconfig: stack.adminKubeconfigPath,
      },
    ).catch(() => undefined);
  });

  it('runs one of 20 concurrent applies spread over both replicas and follows it from the other', async () => {
    expect(
      (
        await request(a)
          .post(`${API}/targets`)
          .send({
            name: 'local',
            allowedNamespaces: ['team-a'],
            credentials: {
              authKind: 'kubeconfig',
              kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
            },
          })
      ).status,
    ).toBe(201);
    const chart = await request(b)
      .post(`${API}/charts`)
      .send({
        reference: `oci://${stack.registry}/charts/hello`,
        version: '0.1.0',
      });
    expect(chart.status).toBe(201);
    const plan = await request(a)
      .post(`${API}/plans`)
      .send({
        entityRef: 'component:default/payments-api',
        chartId: chart.body.id,
        target: 'local',
        namespace: 'team-a',
        releaseName,
        options: { timeoutSeconds: 120 },
      });
    expect(plan.status).toBe(201);
    const planId = plan.body.id;
    await run(a, planId, 'dry-run');
    await run(b, planId, 'preflight');

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(i % 2 === 0 ? a : b)
          .post(`${API}/plans/${planId}/apply`)
          .send({}),
      ),
    );
    const started = responses.filter(r => r.status === 202);
    const refused = responses.filter(r => r.status === 409);
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(19);
    const operationId = started[0].body.id;
    for (const response of refused) {
      expect(response.body.error.message).toMatch(
        new RegExp(
          `^Operation ${operationId} \\(apply by user:default/mock, started [^)]+\\) is running on release "${releaseName}"; wait for it or cancel it$`,
        ),
      );
    }

    // Followed from both replicas while it runs, and read from either after.
    const startedOn = responses.indexOf(started[0]) % 2 === 0 ? a : b;
    const other = startedOn === a ? b : a;
    const lines = await request(other).get(
      `${API}/operations/${operationId}/lines?after=0`,
    );
    expect(lines.status).toBe(200);
    const done = await finished(other, operationId);
    expect(done.status).toBe('succeeded');
    const history = await request(other).get(`${API}/plans/${planId}/history`);
    expect(history.body.items[0]).toMatchObject({
      revision: 1,
      status: 'deployed',
    });
    const all = await request(other).get(`${API}/plans/${planId}/operations`);
    expect(
      all.body.items.filter((o: { kind: string }) => o.kind === 'apply'),
    ).toHaveLength(1);
  });
});
