/*
 * The release workflow end to end through the HTTP API, against the local
 * stack's real kube-apiserver, helm CLI and OCI registry, on PostgreSQL:
 * dry-run → preflight → apply, the gates between them, the guardrails,
 * rollback, uninstall, resources, history and logs.
 */
import {
  createBackendModule,
  SchedulerService,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { deploymentsPreflightExtensionPoint } from '@kubedeploy/plugin-deployments-node';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ApiException, AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { ClusterConnection } from '../cluster/ClusterConnection';
import { deploymentsPlugin } from '../plugin';
import { adminAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
  waitForOperation as waitFor,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const ENTITY = 'component:default/payments-api';
const suffix = randomBytes(3).toString('hex');
const installed: Array<{ release: string; namespace: string }> = [];

/** Setup steps must succeed; a failure names the response. */
function ensureCreated(response: { status: number; body: unknown }) {
  if (response.status !== 201) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

async function run(
  server: Server,
  planId: string,
  step: string,
  body?: object,
) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .send(body ?? {});
  expect({ step, status: started.status, body: started.body }).toMatchObject({
    status: 202,
  });
  return waitFor(server, started.body.id);
}

// Lets the test run scheduled tasks (the target probe) when it wants.
const scheduler = mockServices.scheduler();

describe('release plan workflow (POSTGRES)', () => {
  let server: Server;
  let charts: Record<string, string>;

  beforeAll(async () => {
    const knex = await databases.init(databases.eachSupportedId()[0][0]);
    ({ server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        // An organisation's own check, added through the extension point.
        createBackendModule({
          pluginId: 'deployments',
          moduleId: 'test-preflight-checks',
          register(env) {
            env.registerInit({
              deps: { preflight: deploymentsPreflightExtensionPoint },
              async init({ preflight }) {
                preflight.addPreflightCheck({
                  id: 'object-count',
                  title: 'At most 50 objects',
                  run: async ({ objects }) => ({
                    passed: objects.length <= 50,
                    message: `${objects.length} objects`,
                  }),
                });
              },
            });
          },
        }),
        mockServices.database.factory({ knex }),
        (
          scheduler as unknown as {
            factory(): ServiceFactory<SchedulerService, 'plugin'>;
          }
        ).factory(),
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
    ensureCreated(
      await request(server)
        .post(`${API}/keyring/bootstrap`)
        .send({ passphrase: 'correct horse battery staple 42' }),
    );
    const admin = await request(server)
      .post(`${API}/targets`)
      .send({
        name: 'local',
        allowedNamespaces: ['team-a', 'team-b'],
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      });
    ensureCreated(admin);
    // The limited ServiceAccount may deploy to team-a only; this target
    // (wrongly) allows team-b too, which preflight must catch.
    const limited = await request(server)
      .post(`${API}/targets`)
      .send({
        name: 'limited',
        apiServerUrl: stack.apiServerUrl,
        caData: stack.caPem,
        allowedNamespaces: ['team-a', 'team-b'],
        credentials: { authKind: 'token', token: stack.limitedToken },
      });
    ensureCreated(limited);
    charts = {};
    for (const name of ['hello', 'broken', 'escape']) {
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/${name}`,
          version: '0.1.0',
        });
      ensureCreated(chart);
      charts[name] = chart.body.id;
    }
  });

  afterAll(async () => {
    for (const { release, namespace } of installed) {
      await runHelm(
        ['uninstall', release, '-n', namespace, '--ignore-not-found'],
        {
          kubeconfig: stack.adminKubeconfigPath,
        },
      ).catch(() => undefined);
    }
  });

  it('takes hello through dry-run, preflight and apply, with the gates, history, resources, logs, rollback and uninstall', async () => {
    const releaseName = `t-flow-${suffix}`;
    installed.push({ release: releaseName, namespace: 'team-a' });
    const profile = await request(server)
      .post(`${API}/profiles`)
      .send({
        chartId: charts.hello,
        name: `flow-${suffix}`,
        values: { greeting: 'first', apiToken: 'tok-flow-secret-1234' },
      });
    expect(profile.status).toBe(201);

    const created = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId: charts.hello,
        target: 'local',
        namespace: 'team-a',
        releaseName,
        profileId: profile.body.id,
        options: { timeoutSeconds: 120 },
      });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'draft',
      entityOwner: 'group:default/payments',
      chart: { name: 'hello', version: '0.1.0' },
    });
    const planId = created.body.id;

    // Outside the allowlist, an invalid name, a duplicate: refused at write time.
    for (const [body, status] of [
      [{ namespace: 'kube-system' }, 400],
      [{ releaseName: 'Not_Valid' }, 400],
      [{}, 409],
    ] as const) {
      const refused = await request(server)
        .post(`${API}/plans`)
        .send({ ...created.body, ...body, id: undefined, chart: undefined });
      expect(refused.status === status || refused.status === 400).toBe(true);
    }

    const early = await request(server).post(`${API}/plans/${planId}/apply`);
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/dry-run/);

    const dryRun = await run(server, planId, 'dry-run');
    expect(dryRun.status).toBe('succeeded');
    expect(dryRun.result.passed).toBe(true);
    expect(dryRun.result.objects.map((o: { kind: string }) => o.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'Secret']),
    );
    // The secret value never reaches the rendered output.
    expect(JSON.stringify(dryRun)).not.toContain('tok-flow-secret-1234');
    // Each object compared with the live cluster, as the API server would apply it.
    const deploymentObject = dryRun.result.objects.find(
      (o: { kind: string }) => o.kind === 'Deployment',
    );
    expect(deploymentObject.liveChange).toBe('added');
    expect(deploymentObject.liveDiff).toMatch(/\+\s+replicas: 1/);

    const noPreflight = await request(server).post(
      `${API}/plans/${planId}/apply`,
    );
    expect(noPreflight.status).toBe(409);
    expect(noPreflight.body.error.message).toMatch(/preflight/);

    const preflight = await run(server, planId, 'preflight');
    expect(preflight.status).toBe('succeeded');
    expect(preflight.result.checks).toContainEqual({
      name: 'At most 50 objects',
      passed: true,
      message: expect.stringMatching(/^\d+ objects$/),
    });

    // The profile changes: the passed gates no longer match the inputs.
    await request(server)
      .put(`${API}/profiles/${profile.body.id}`)
      .send({ values: { greeting: 'second' } })
      .expect(200);
    const stale = await request(server).post(`${API}/plans/${planId}/apply`);
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/changed since/);

    expect((await run(server, planId, 'dry-run')).status).toBe('succeeded');
    expect((await run(server, planId, 'preflight')).status).toBe('succeeded');

    // Two applies at once: one runs, the other is told which one.
    const [first, second] = await Promise.all([
      request(server).post(`${API}/plans/${planId}/apply`),
      request(server).post(`${API}/plans/${planId}/apply`),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([202, 409]);
    const winner = first.status === 202 ? first : second;
    const loser = first.status === 202 ? second : first;
    expect(loser.body.error.message).toContain(winner.body.id);

    const applied = await waitFor(server, winner.body.id);
    expect(applied).toMatchObject({
      status: 'succeeded',
      result: { helmRevision: 1, rolledBack: false },
    });
    const lines = await request(server).get(
      `${API}/operations/${applied.id}/lines`,
    );
    expect(lines.body.items.length).toBeGreaterThan(1);
    const plan = await request(server).get(`${API}/plans/${planId}`);
    expect(plan.body.status).toBe('deployed');

    const resources = await request(server).get(
      `${API}/plans/${planId}/resources`,
    );
    expect(resources.status).toBe(200);
    const deployment = resources.body.objects.find(
      (o: { kind: string }) => o.kind === 'Deployment',
    );
    expect(deployment.state).toBe('present');
    expect(resources.body.pods.length).toBeGreaterThan(0);

    const history = await request(server).get(`${API}/plans/${planId}/history`);
    expect(history.body.items[0]).toMatchObject({
      revision: 1,
      status: 'deployed',
      actor: 'user:default/mock',
      planRevision: 1,
    });

    const pods = await request(server).get(`${API}/plans/${planId}/pods`);
    const pod = pods.body.items[0];
    const logs = await request(server)
      .get(`${API}/plans/${planId}/logs`)
      .query({ pod: pod.name, tailLines: 10 });
    expect(logs.status).toBe(200);
    expect(logs.headers['content-type']).toMatch(/text\/plain/);

    // Follow streams that clients close give their slot back: more than the
    // per-user cap of 5, one after another, all open.
    const { port } = (
      server as unknown as { address(): AddressInfo }
    ).address();
    for (let i = 0; i < 7; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpGet(
          `http://127.0.0.1:${port}${API}/plans/${planId}/logs?pod=${pod.name}&follow=true&tailLines=5`,
          response => {
            if (response.statusCode !== 200) {
              response.resume();
              resolve(response.statusCode ?? 0);
              return;
            }
            response.once('data', () => {
              req.destroy();
              resolve(200);
            });
          },
        );
        req.on('error', error => {
          if (!req.destroyed) reject(error);
        });
      });
      expect({ stream: i, status }).toEqual({ stream: i, status: 200 });
      await new Promise(resolve => setTimeout(resolve, 100));
    }

    // A second revision, then back to the first.
    await request(server)
      .put(`${API}/profiles/${profile.body.id}`)
      .send({ values: { greeting: 'third' } })
      .expect(200);
    expect(
      (await run(server, planId, 'dry-run')).result.objects.find(
        (o: { kind: string }) => o.kind === 'ConfigMap',
      ).change,
    ).toBe('changed');
    expect((await run(server, planId, 'preflight')).status).toBe('succeeded');
    expect((await run(server, planId, 'apply')).result.helmRevision).toBe(2);
    const rollback = await run(server, planId, 'rollback', { revision: 1 });
    expect(rollback).toMatchObject({
      status: 'succeeded',
      result: { helmRevision: 3 },
    });
    // Chosen, not a failure: deployed, and the banner stays quiet.
    expect(
      (await request(server).get(`${API}/plans/${planId}`)).body,
    ).toMatchObject({
      status: 'deployed',
      statusMessage: 'rolled back to revision 1 (now revision 3)',
    });
    const { failed } = (await request(server).get(`${API}/health/summary`)).body
      .releases;
    expect(failed.map((r: { planId: string }) => r.planId)).not.toContain(
      planId,
    );

    const wrongConfirm = await request(server)
      .post(`${API}/plans/${planId}/uninstall`)
      .send({ confirmReleaseName: 'something-else' });
    expect(wrongConfirm.status).toBe(400);
    expect(
      (
        await run(server, planId, 'uninstall', {
          confirmReleaseName: releaseName,
        })
      ).status,
    ).toBe('succeeded');
    expect(
      (await request(server).get(`${API}/plans/${planId}`)).body.status,
    ).toBe('uninstalled');

    // Every operation was audited with its outcome.
    const audit = await request(server)
      .get(`${API}/audit`)
      .query({ eventId: 'plan-apply-finished' });
    expect(audit.body.items.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses escape at dry-run, naming each offending object', async () => {
    const plan = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId: charts.escape,
        target: 'local',
        namespace: 'team-a',
        releaseName: `t-escape-${suffix}`,
      });
    expect(plan.status).toBe(201);
    const dryRun = await run(server, plan.body.id, 'dry-run');
    expect(dryRun.status).toBe('failed');
    const objects = dryRun.result.violations.map(
      (v: { object: string }) => v.object,
    );
    expect(objects.join('\n')).toMatch(/ClusterRole .*escalate/);
    expect(objects.join('\n')).toMatch(/ConfigMap kube-system\/.*-outside/);
    expect(dryRun.error).toMatch(/escalate/);
    const apply = await request(server).post(
      `${API}/plans/${plan.body.id}/apply`,
    );
    expect(apply.status).toBe(409);
  });

  it('fails the dry-run when the API server refuses an object, changing nothing', async () => {
    const releaseName = `t-immutable-${suffix}`;
    const admin = ClusterConnection.fromAccess(adminAccess(stack));
    const apps = admin.makeApiClient(AppsV1Api);
    const core = admin.makeApiClient(CoreV1Api);
    // A Deployment of the same name whose selector hello would change: the
    // selector is immutable, so the API server refuses hello's Deployment.
    await apps.createNamespacedDeployment({
      namespace: 'team-a',
      body: {
        metadata: {
          name: releaseName,
          labels: { 'app.kubernetes.io/managed-by': 'Helm' },
          annotations: {
            'meta.helm.sh/release-name': releaseName,
            'meta.helm.sh/release-namespace': 'team-a',
          },
        },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'other' } },
          template: {
            metadata: { labels: { app: 'other' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          },
        },
      },
    });
    try {
      const plan = await request(server).post(`${API}/plans`).send({
        entityRef: ENTITY,
        chartId: charts.hello,
        target: 'local',
        namespace: 'team-a',
        releaseName,
      });
      ensureCreated(plan);
      const dryRun = await run(server, plan.body.id, 'dry-run');
      expect({ status: dryRun.status, error: dryRun.error }).toEqual({
        status: 'failed',
        error: expect.stringMatching(/API server/),
      });
      expect(dryRun.result.passed).toBe(false);
      expect(dryRun.result.violations).toEqual([
        {
          object: `apps/v1 Deployment team-a/${releaseName}`,
          reason: expect.stringMatching(
            /^the API server refuses it: .*field is immutable/,
          ),
        },
      ]);
      expect(dryRun.error).toMatch(/API server/);
      const lines = await request(server).get(
        `${API}/operations/${dryRun.id}/lines`,
      );
      const text = JSON.stringify(lines.body.items);
      expect(text).toMatch(
        /Validated 3 objects on the API server \(dry-run\): 1 refused/,
      );
      expect(
        (await request(server).get(`${API}/plans/${plan.body.id}`)).body.status,
      ).toBe('dry-run-failed');

      // Nothing changed: the Deployment keeps its selector, nothing else exists.
      const live = await apps.readNamespacedDeployment({
        name: releaseName,
        namespace: 'team-a',
      });
      expect(live.spec?.selector.matchLabels).toEqual({ app: 'other' });
      const named = { name: releaseName, namespace: 'team-a' };
      await expect(core.readNamespacedService(named)).rejects.toMatchObject({
        code: 404,
      });
      await expect(core.readNamespacedConfigMap(named)).rejects.toMatchObject({
        code: 404,
      });
    } finally {
      await apps
        .deleteNamespacedDeployment({ name: releaseName, namespace: 'team-a' })
        .catch((error: unknown) => {
          if (!(error instanceof ApiException && error.code === 404)) {
            throw error;
          }
        });
    }
  });

  it('fails preflight for the limited ServiceAccount outside its namespace, naming the missing verbs', async () => {
    const plan = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId: charts.hello,
        target: 'limited',
        namespace: 'team-b',
        releaseName: `t-limited-${suffix}`,
      });
    expect(plan.status).toBe(201);
    const preflight = await run(server, plan.body.id, 'preflight');
    expect(preflight.status).toBe('failed');
    const failed = preflight.result.checks.filter(
      (c: { passed: boolean }) => !c.passed,
    );
    const text = JSON.stringify(failed);
    expect(text).toMatch(/deployments/);
    expect(text).toMatch(/create/);
    expect(failed.some((c: { missingRule?: string }) => c.missingRule)).toBe(
      true,
    );
  });

  it('answers 503 with the reason when the target cannot be reached', async () => {
    await request(server)
      .post(`${API}/targets`)
      .send({
        name: 'gone',
        apiServerUrl: 'https://127.0.0.1:1',
        caData: stack.caPem,
        allowedNamespaces: ['team-a'],
        credentials: { authKind: 'token', token: 'abc' },
      })
      .expect(201);
    const plan = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId: charts.hello,
        target: 'gone',
        namespace: 'team-a',
        releaseName: `t-gone-${suffix}`,
      });
    const resources = await request(server).get(
      `${API}/plans/${plan.body.id}/resources`,
    );
    expect(resources.status).toBe(503);
    expect(resources.body.error.name).toBe('TargetClusterError');
    const dryRun = await run(server, plan.body.id, 'dry-run');
    expect(dryRun.status).toBe('failed');
    expect(dryRun.error).toMatch(/refused|unreachable|connect/i);

    // The scheduled probe puts it on the status banner.
    await scheduler.triggerTask('deployments-probe-targets');
    const health = await request(server).get(`${API}/health/summary`);
    expect(health.body).toMatchObject({
      status: 'degraded',
      keyring: 'unlocked',
      targets: { unreachable: [{ name: 'gone' }] },
    });
  });

  it('rolls back a broken upgrade and shows why', async () => {
    const releaseName = `t-broken-${suffix}`;
    installed.push({ release: releaseName, namespace: 'team-a' });
    const profile = await request(server)
      .post(`${API}/profiles`)
      .send({
        chartId: charts.broken,
        name: `broken-${suffix}`,
        values: { replicaCount: 0 },
      });
    const plan = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId: charts.broken,
        target: 'local',
        namespace: 'team-a',
        releaseName,
        profileId: profile.body.id,
        options: { timeoutSeconds: 15 },
      });
    const planId = plan.body.id;
    for (const step of ['dry-run', 'preflight', 'apply']) {
      expect((await run(server, planId, step)).status).toBe('succeeded');
    }
    await request(server)
      .put(`${API}/profiles/${profile.body.id}`)
      .send({ values: { replicaCount: 1 } })
      .expect(200);
    expect((await run(server, planId, 'dry-run')).status).toBe('succeeded');
    expect((await run(server, planId, 'preflight')).status).toBe('succeeded');
    const apply = await run(server, planId, 'apply');
    expect(apply).toMatchObject({
      status: 'failed',
      result: { rolledBack: true },
    });
    const after = await request(server).get(`${API}/plans/${planId}`);
    expect(after.body.status).toBe('rolled-back');
    expect(after.body.statusMessage).toMatch(/timed out|timeout|rolled back/i);

    // The same inputs may be applied again; cancelling sends helm SIGTERM,
    // and helm rolls the release back before it exits.
    const again = await request(server)
      .post(`${API}/plans/${planId}/apply`)
      .expect(202);
    await new Promise(resolve => setTimeout(resolve, 1500));
    const cancel = await request(server).post(
      `${API}/operations/${again.body.id}/cancel`,
    );
    expect(cancel.status).toBe(202);
    expect(cancel.body.cancelRequested).toBe(true);
    const cancelled = await waitFor(server, again.body.id);
    expect(cancelled.status).toBe('cancelled');
    const history = await request(server).get(`${API}/plans/${planId}/history`);
    expect(history.body.items[0].status).toBe('deployed');
  });
});
