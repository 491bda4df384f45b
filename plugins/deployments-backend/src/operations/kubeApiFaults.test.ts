/*
 * The kube-apiserver goes away (a relay between the backend and the local
 * stack's API server is cut) during an apply that waits, during a dry-run
 * and during a followed log stream: each ends in bounded time with a clear
 * error, the release in a state the plan names, and the release lock freed.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { ClusterConnection } from '../cluster/ClusterConnection';
import { adminAccess } from '../__testUtils__/clusterAccess';
import { processDeadlineSeconds } from '../helm/helmArguments';
import { deploymentsPlugin } from '../plugin';
import { FaultRelay, startFaultRelay } from '../__testUtils__/faultRelay';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const ENTITY = 'component:default/payments-api';
const suffix = randomBytes(3).toString('hex');
const TIMEOUT_SECONDS = 30;
// helm's own shutdown, the rollback attempt and recording the outcome.
const MARGIN_MS = 30_000;
const adminKubeconfig = readFileSync(stack.adminKubeconfigPath, 'utf8');
const clientKey = /client-key-data: (\S+)/.exec(adminKubeconfig)![1];

const admin = ClusterConnection.fromAccess(adminAccess(stack));
const core = admin.makeApiClient(CoreV1Api);
const apps = admin.makeApiClient(AppsV1Api);

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

async function run(server: Server, planId: string, step: string) {
  const started = await request(server).post(`${API}/plans/${planId}/${step}`);
  expect({ step, status: started.status, body: started.body }).toMatchObject({
    status: 202,
  });
  return waitFor(server, started.body.id);
}

/** A clear error: one message, no stack trace, no credential. */
function expectClearError(text: string) {
  expect(text).not.toMatch(/\n\s+at [\w.<>]+ \(/);
  expect(text).not.toContain(clientKey.slice(0, 40));
  expect(text).not.toMatch(/BEGIN (RSA |EC )?PRIVATE KEY/);
}

describe('kube-apiserver gone (POSTGRES)', () => {
  let server: Server;
  let relay: FaultRelay;
  let chartId: string;
  const installed: string[] = [];

  beforeAll(async () => {
    const upstream = new URL(stack.apiServerUrl);
    relay = await startFaultRelay({
      host: upstream.hostname,
      port: Number(upstream.port),
    });
    const knex = await databases.init(databases.eachSupportedId()[0][0]);
    ({ server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        mockServices.database.factory({ knex }),
        mockServices.rootConfig.factory({
          data: {
            deployments: {
              registries: { allowLoopback: true },
              operations: { heartbeatSeconds: 1 },
              logs: { quietCheckSeconds: 2, quietCheckTimeoutSeconds: 2 },
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
    await request(server)
      .post(`${API}/keyring/bootstrap`)
      .send({ passphrase: 'correct horse battery staple 42' })
      .expect(201);
    // The admin kubeconfig, its server the relay: 127.0.0.1 is a SAN of the
    // API server's certificate, so TLS verifies through the relay's port.
    await request(server)
      .post(`${API}/targets`)
      .send({
        name: 'relayed',
        allowedNamespaces: ['team-a'],
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: adminKubeconfig.replace(
            stack.apiServerUrl,
            `https://${relay.address}`,
          ),
        },
      })
      .expect(201);
    const chart = await request(server)
      .post(`${API}/charts`)
      .send({
        reference: `oci://${stack.registry}/charts/hello`,
        version: '0.1.0',
      })
      .expect(201);
    chartId = chart.body.id;
  });

  afterEach(() => relay.resume());

  afterAll(async () => {
    await relay?.close();
    for (const release of installed) {
      await runHelm(
        ['uninstall', release, '-n', 'team-a', '--ignore-not-found'],
        {
          kubeconfig: stack.adminKubeconfigPath,
        },
      ).catch(() => undefined);
    }
  });

  async function createPlan(name: string) {
    const releaseName = `t-fault-${name}-${suffix}`;
    installed.push(releaseName);
    const plan = await request(server)
      .post(`${API}/plans`)
      .send({
        entityRef: ENTITY,
        chartId,
        target: 'relayed',
        namespace: 'team-a',
        releaseName,
        options: { timeoutSeconds: TIMEOUT_SECONDS },
      })
      .expect(201);
    return plan.body.id as string;
  }

  it.each([
    ['goes away', 'cut'],
    ['hangs (accepts, never answers)', 'pause'],
  ] as const)(
    'an apply waiting on the release ends when the API server %s, the plan saying what state the release is in, the lock freed',
    async (_, fault) => {
      const planId = await createPlan(`apply-${fault}`);
      const releaseName = `t-fault-apply-${fault}-${suffix}`;
      expect((await run(server, planId, 'dry-run')).status).toBe('succeeded');
      expect((await run(server, planId, 'preflight')).status).toBe('succeeded');

      const started = await request(server)
        .post(`${API}/plans/${planId}/apply`)
        .expect(202);
      const startedAt = Date.now();
      // Cut once helm has stored the pending release and created its objects,
      // so it waits on them (seen directly on the API server, not through the
      // relay).
      let waiting = false;
      for (let i = 0; i < 800 && !waiting; i++) {
        const secrets = await core.listNamespacedSecret({
          namespace: 'team-a',
          labelSelector: `owner=helm,name=${releaseName}`,
        });
        const pending = secrets.items.some(
          secret => secret.metadata?.labels?.status === 'pending-install',
        );
        waiting =
          pending &&
          (await apps
            .readNamespacedDeployment({
              name: releaseName,
              namespace: 'team-a',
            })
            .then(
              () => true,
              () => false,
            ));
        if (!waiting) await new Promise(resolve => setTimeout(resolve, 20));
      }
      expect(waiting).toBe(true);
      relay[fault]();
      const operation = await waitFor(server, started.body.id);
      const elapsed = Date.now() - startedAt;

      // eslint-disable-next-line no-console
      console.log(`apply ${fault}:`, elapsed, 'ms', operation.error);
      // Refused connections fail helm at once; a hung API server holds each
      // of helm's requests until its own timeouts, within the deadline the
      // runner gives the whole command (--timeout per wait, two or three
      // times, plus a minute), then the 15 s release state read.
      expect(elapsed).toBeLessThan(
        fault === 'cut'
          ? TIMEOUT_SECONDS * 1000 + MARGIN_MS
          : processDeadlineSeconds(TIMEOUT_SECONDS, {
              rollbackOnFailure: true,
            }) *
              1000 +
              MARGIN_MS,
      );
      expect(operation.status).toBe('failed');
      expect(operation.error).toEqual(expect.any(String));
      expectClearError(JSON.stringify(operation));
      const plan = (await request(server).get(`${API}/plans/${planId}`)).body;
      expect(plan.status).not.toMatch(/running|applying/);
      // The plan says what state helm left the release in: with the API
      // server gone it cannot be read, and the plan says so.
      expect(plan.statusMessage).toMatch(
        /; the release state could not be read \(the API server did not answer\): it may be left pending; check it before applying again$/,
      );
      expectClearError(plan.statusMessage);
      // eslint-disable-next-line no-console
      console.log(`apply ${fault}:`, elapsed, 'ms', {
        operation: {
          status: operation.status,
          error: operation.error,
          result: operation.result,
        },
        plan: { status: plan.status, statusMessage: plan.statusMessage },
      });

      // The lock is free: the next operation on the release starts.
      relay.resume();
      const next = await request(server).post(`${API}/plans/${planId}/dry-run`);
      expect(next.status).toBe(202);
      await waitFor(server, next.body.id);
    },
  );

  it('a dry-run ends with a clear error when the API server goes away', async () => {
    const planId = await createPlan('dry');
    const started = await request(server)
      .post(`${API}/plans/${planId}/dry-run`)
      .expect(202);
    const startedAt = Date.now();
    relay.cut();
    const operation = await waitFor(server, started.body.id);
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeLessThan(TIMEOUT_SECONDS * 1000 + MARGIN_MS);
    expect(operation.status).toBe('failed');
    expect(operation.error).toMatch(
      /refused|unreachable|connect|reset|API server/i,
    );
    expectClearError(JSON.stringify(operation));
    const plan = (await request(server).get(`${API}/plans/${planId}`)).body;
    expect(plan.status).toBe('dry-run-failed');
    // eslint-disable-next-line no-console
    console.log(
      'dry-run cut:',
      elapsed,
      'ms',
      operation.error,
      plan.statusMessage,
    );

    relay.resume();
    const next = await request(server).post(`${API}/plans/${planId}/dry-run`);
    expect(next.status).toBe(202);
    expect((await waitFor(server, next.body.id)).status).toBe('succeeded');
  });

  it('a followed log stream tells the client the API server closed it or stopped answering, and a reconnect with a since-time follows again', async () => {
    const planId = await createPlan('logs');
    for (const step of ['dry-run', 'preflight', 'apply']) {
      expect((await run(server, planId, step)).status).toBe('succeeded');
    }
    const pods = await request(server)
      .get(`${API}/plans/${planId}/pods`)
      .expect(200);
    const pod = pods.body.items[0].name;
    const { port } = (
      server as unknown as { address(): AddressInfo }
    ).address();

    const received = await followUntilInterrupted(
      `http://127.0.0.1:${port}${API}/plans/${planId}/logs?pod=${pod}&follow=true&tailLines=5`,
      () => relay.cut(),
    );
    // eslint-disable-next-line no-console
    console.log('log stream cut:', received);
    expect(received.status).toBe(200);
    expect(received.ms).toBeLessThan(10_000);
    const lines = received.text.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toMatch(
      /^\[log stream interrupted: .*(reset|closed)/,
    );
    expectClearError(received.text);

    // Once the API server answers again, the client reconnects with a
    // since-time, following again: the stream is served and stays open
    // (nothing of the cut stream lingers), until the client goes.
    relay.resume();
    const again = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const req = httpGet(
          `http://127.0.0.1:${port}${API}/plans/${planId}/logs?pod=${pod}&follow=true&sinceSeconds=3600&tailLines=5`,
          response => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', chunk => {
              text += chunk;
              // Still open a second after the first lines: it follows.
              setTimeout(() => {
                resolve({ status: response.statusCode ?? 0, text });
                req.destroy();
              }, 1_000);
            });
            response.on('end', () =>
              reject(new Error(`the reconnected stream ended: ${text}`)),
            );
          },
        );
        req.on('error', error => {
          if (!req.destroyed) reject(error);
        });
        setTimeout(() => {
          req.destroy();
          reject(new Error('the reconnected stream sent nothing'));
        }, 30_000);
      },
    );
    expect(again.status).toBe(200);
    expect(again.text.trim().length).toBeGreaterThan(0);
    expect(again.text).not.toMatch(/log stream interrupted/);

    // An API server that hangs (keeps the connection, answers nothing) is
    // noticed by the quiet-stream check (2 s + 2 s here), not left silent.
    const hung = await followUntilInterrupted(
      `http://127.0.0.1:${port}${API}/plans/${planId}/logs?pod=${pod}&follow=true&tailLines=5`,
      () => relay.pause(),
    );
    // eslint-disable-next-line no-console
    console.log('log stream hung:', hung);
    expect(hung.status).toBe(200);
    expect(hung.ms).toBeLessThan(15_000);
    expect(hung.text.trimEnd().split('\n').pop()).toMatch(
      /^\[log stream interrupted: the API server stopped answering: the log was quiet for 2 s and a check of pod \S+ got no answer within 2 s\]$/,
    );
    expectClearError(hung.text);
  });
});

/**
 * Follows a log over HTTP and calls `fault` at its first bytes; resolves
 * with what the client received once the backend ends the response.
 */
function followUntilInterrupted(
  url: string,
  fault: () => void,
): Promise<{ status: number; text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    let faultAt = 0;
    // Ends the request (an AbortError) if the stream never ends.
    const signal = AbortSignal.timeout(60_000);
    const req = httpGet(url, { signal }, response => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', chunk => {
        text += chunk;
        if (!faultAt) {
          faultAt = Date.now();
          fault();
        }
      });
      const done = () => {
        resolve({
          status: response.statusCode ?? 0,
          text,
          ms: Date.now() - faultAt,
        });
      };
      response.on('end', done);
      response.on('aborted', done);
      response.on('error', done);
    });
    req.on('error', reject);
  });
}
