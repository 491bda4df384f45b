/*
 * A backend process killed in the middle of an apply (SIGKILL to its process
 * group, helm included): the next backend marks the operation interrupted,
 * says the release is left pending, and a rollback recovers it. Real
 * processes, the local stack's cluster and helm, PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import {
  BackendProcess,
  spawnBackendProcess,
} from '../__testUtils__/backendProcess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { API } from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const releaseName = `t-crash-${randomBytes(3).toString('hex')}`;

async function waitFor(baseUrl: string, operationId: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(baseUrl).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

async function step(baseUrl: string, planId: string, name: string, body = {}) {
  const started = await request(baseUrl)
    .post(`${API}/plans/${planId}/${name}`)
    .send(body);
  expect({ name, status: started.status, body: started.body }).toMatchObject({
    status: 202,
  });
  return waitFor(baseUrl, started.body.id);
}

describe('an apply whose backend dies', () => {
  const processes: BackendProcess[] = [];

  afterAll(async () => {
    for (const p of processes) await p.kill();
    await runHelm(
      ['uninstall', releaseName, '-n', 'team-a', '--ignore-not-found'],
      {
        kubeconfig: stack.adminKubeconfigPath,
      },
    ).catch(() => undefined);
  });

  it('is marked interrupted by the next backend, and the pending release is recovered by a rollback', async () => {
    const knex = await databases.init(databases.eachSupportedId()[0][0]);
    // The same fresh database, reached from the backend processes.
    const url = new URL(
      process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING!,
    );
    url.pathname = `/${knex.client.config.connection.database}`;
    const options = {
      client: 'pg' as const,
      connection: url.toString(),
      config: {
        deployments: {
          // Replicas come up unlocked, as in production.
          keyring: { passphrase: 'correct horse battery staple 42' },
          registries: { allowLoopback: true },
          operations: {
            heartbeatSeconds: 1,
            staleAfterSeconds: 3,
            sweepIntervalSeconds: 2,
          },
        },
      },
      entities: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: { name: 'payments-api', namespace: 'default' },
          spec: { type: 'service', lifecycle: 'production', owner: 'payments' },
        },
      ],
    };
    const first = await spawnBackendProcess(options);
    processes.push(first);
    const api = first.baseUrl;

    await request(api)
      .post(`${API}/keyring/bootstrap`)
      .send({ passphrase: 'correct horse battery staple 42' })
      .expect(201);
    await request(api)
      .post(`${API}/targets`)
      .send({
        name: 'local',
        allowedNamespaces: ['team-a'],
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      })
      .expect(201);
    const chart = await request(api)
      .post(`${API}/charts`)
      .send({
        reference: `oci://${stack.registry}/charts/broken`,
        version: '0.1.0',
      })
      .expect(201);
    const profile = await request(api)
      .post(`${API}/profiles`)
      .send({
        chartId: chart.body.id,
        name: 'zero',
        values: { replicaCount: 0 },
      })
      .expect(201);
    const plan = await request(api)
      .post(`${API}/plans`)
      .send({
        entityRef: 'component:default/payments-api',
        chartId: chart.body.id,
        target: 'local',
        namespace: 'team-a',
        releaseName,
        profileId: profile.body.id,
        options: { timeoutSeconds: 300 },
      })
      .expect(201);
    const planId = plan.body.id;
    for (const name of ['dry-run', 'preflight', 'apply']) {
      expect((await step(api, planId, name)).status).toBe('succeeded');
    }

    // Revision 2 never becomes ready: helm waits, and the backend dies.
    await request(api)
      .put(`${API}/profiles/${profile.body.id}`)
      .send({ values: { replicaCount: 1 } })
      .expect(200);
    expect((await step(api, planId, 'dry-run')).status).toBe('succeeded');
    expect((await step(api, planId, 'preflight')).status).toBe('succeeded');
    const apply = await request(api)
      .post(`${API}/plans/${planId}/apply`)
      .expect(202);
    for (let i = 0; i < 60; i++) {
      const history = await runHelm(
        ['history', releaseName, '-n', 'team-a', '-o', 'json'],
        { kubeconfig: stack.adminKubeconfigPath },
      );
      if (
        JSON.parse(history.stdout).some(
          (h: { status: string }) => h.status === 'pending-upgrade',
        )
      )
        break;
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    await first.kill();
    // Let the dead runner's heartbeat go stale before the next one starts.
    await new Promise(resolve => setTimeout(resolve, 4_000));

    const second = await spawnBackendProcess(options);
    processes.push(second);
    const next = second.baseUrl;
    let interrupted;
    for (let i = 0; i < 60; i++) {
      interrupted = (
        await request(next).get(`${API}/operations/${apply.body.id}`)
      ).body;
      if (interrupted.status !== 'running') break;
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    expect(interrupted.status).toBe('interrupted');
    // Its outcome is in the audit trail like any other operation's.
    const audit = await request(next).get(
      `${API}/audit?eventId=plan-apply-finished`,
    );
    expect(
      audit.body.items.find(
        (e: { meta?: { operationId?: string } }) =>
          e.meta?.operationId === apply.body.id,
      ),
    ).toMatchObject({ outcome: 'failed', meta: { status: 'interrupted' } });
    let stuck;
    for (let i = 0; i < 20; i++) {
      stuck = (await request(next).get(`${API}/plans/${planId}`)).body;
      if (/pending-upgrade/.test(stuck.statusMessage ?? '')) break;
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    expect(stuck.status).toBe('interrupted');
    expect(stuck.runningOperationId).toBeUndefined();
    expect(stuck.statusMessage).toMatch(/pending-upgrade.*roll back/);
    const health = await request(next).get(`${API}/health/summary`);
    expect(
      health.body.releases.pending.map((r: { planId: string }) => r.planId),
    ).toContain(planId);

    // Recovery: back to the last deployed revision.
    const recovered = await step(next, planId, 'rollback');
    expect(recovered.status).toBe('succeeded');
    const history = JSON.parse(
      (
        await runHelm(['history', releaseName, '-n', 'team-a', '-o', 'json'], {
          kubeconfig: stack.adminKubeconfigPath,
        })
      ).stdout,
    );
    // helm keeps the abandoned revision in its history; what counts is that
    // the newest revision is deployed again, so the next apply can run.
    expect(history[history.length - 1]).toMatchObject({
      status: 'deployed',
      description: 'Rollback to 1',
    });
  });
});
