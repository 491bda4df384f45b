/*
 * An install whose pod never becomes ready fails with helm's timeout and
 * is rolled back: the operation keeps the last picture taken while helm
 * waited. First the pod asks for more CPU than the local cluster's node has,
 * so the real scheduler leaves it Pending (its state and the scheduler's
 * FailedScheduling event); then the test sets that pod crashing and binds it
 * to the KWOK node, as a kubelet would report a crash loop (its state, the
 * BackOff event and the crashed container's last lines, which KWOK serves).
 * The profile's secret is nowhere in the database. On PostgreSQL and SQLite.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { CoreV1Api } from '@kubernetes/client-node';
import { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { ClusterConnection } from '../cluster/ClusterConnection';
import { adminAccess } from '../__testUtils__/clusterAccess';
import { crashUnschedulableReleasePods } from '../__testUtils__/failingPods';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { deploymentsPlugin } from '../plugin';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const suffix = randomBytes(3).toString('hex');
const admin = ClusterConnection.fromAccess(adminAccess(stack));
const API_TOKEN = `diagnosis-token-${suffix}-Zq8`;

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

async function run(server: Server, planId: string, step: string) {
  const started = await request(server).post(`${API}/plans/${planId}/${step}`);
  if (started.status !== 202) {
    throw new Error(
      `${step}: ${started.status} ${JSON.stringify(started.body)}`,
    );
  }
  return waitFor(server, started.body.id);
}

async function allRows(knex: Knex): Promise<string> {
  const dump: string[] = [];
  for (const table of [
    'deployments_operations',
    'deployments_operation_lines',
    'deployments_plans',
  ]) {
    dump.push(JSON.stringify(await knex(table).select()));
  }
  return dump.join('\n');
}

describe.each(databases.eachSupportedId())(
  'a failed install keeps its cause (%s)',
  databaseId => {
    const releaseName = `t-diag-${databaseId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 8)}-${suffix}`;
    let server: Server;
    let knex: Knex;
    let planId: string;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
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
      const keyring = await request(server)
        .post(`${API}/keyring/bootstrap`)
        .send({ passphrase: 'correct horse battery staple 42' });
      if (keyring.status !== 201) throw new Error(`keyring: ${keyring.text}`);
      const target = await request(server)
        .post(`${API}/targets`)
        .send({
          name: 'local',
          allowedNamespaces: ['team-a'],
          credentials: {
            authKind: 'kubeconfig',
            kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
          },
        });
      if (target.status !== 201) throw new Error(`target: ${target.text}`);
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      if (chart.status !== 201) throw new Error(`chart: ${chart.text}`);
      const profile = await request(server)
        .post(`${API}/profiles`)
        .send({
          chartId: chart.body.id,
          name: `diag-${suffix}`,
          // The node has 32 CPUs.
          values: {
            apiToken: API_TOKEN,
            resources: {
              requests: { cpu: '64', memory: '64Mi' },
              limits: { cpu: '64', memory: '128Mi' },
            },
          },
        });
      if (profile.status !== 201) throw new Error(`profile: ${profile.text}`);
      const plan = await request(server)
        .post(`${API}/plans`)
        .send({
          entityRef: 'component:default/payments-api',
          chartId: chart.body.id,
          target: 'local',
          namespace: 'team-a',
          releaseName,
          profileId: profile.body.id,
          options: { timeoutSeconds: 15 },
        });
      if (plan.status !== 201) throw new Error(`plan: ${plan.text}`);
      planId = plan.body.id;
    });

    afterAll(async () => {
      await runHelm(
        ['uninstall', releaseName, '-n', 'team-a', '--ignore-not-found'],
        { kubeconfig: stack.adminKubeconfigPath },
      ).catch(() => undefined);
    });

    it('the operation records the pod’s state and the scheduler’s event; the error is said once', async () => {
      for (const step of ['dry-run', 'preflight']) {
        const done = await run(server, planId, step);
        expect({ step, status: done.status, error: done.error }).toEqual({
          step,
          status: 'succeeded',
          error: undefined,
        });
      }
      const operation = await run(server, planId, 'apply');

      expect(operation.status).toBe('failed');
      expect(operation.error).toMatch(/context deadline exceeded|timed out/);
      expect(operation.result).toMatchObject({
        type: 'apply',
        diagnosis: {
          pods: [
            {
              name: expect.stringMatching(new RegExp(`^${releaseName}-`)),
              phase: 'Pending',
              healthy: false,
              health: 'not scheduled: Unschedulable',
            },
          ],
          logs: [],
        },
      });
      const [pod] = operation.result.diagnosis.pods;
      expect(operation.result.diagnosis.events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            object: `Pod/${pod.name}`,
            type: 'Warning',
            reason: 'FailedScheduling',
            message: expect.stringContaining('Insufficient cpu'),
          }),
        ]),
      );
      // Helm removed what it installed: the picture is all that is left.
      const left = await admin.makeApiClient(CoreV1Api).listNamespacedPod({
        namespace: 'team-a',
        labelSelector: `app.kubernetes.io/instance=${releaseName}`,
      });
      expect(
        left.items.filter(item => !item.metadata?.deletionTimestamp),
      ).toEqual([]);

      // While helm waited, the progress said what the pod did.
      const lines: string[] = (
        await request(server).get(
          `${API}/operations/${operation.id}/lines?after=0&limit=500`,
        )
      ).body.items.map((line: { text: string }) => line.text);
      expect(lines).toEqual(
        expect.arrayContaining([
          `Pod ${pod.name}: not scheduled: Unschedulable`,
          expect.stringMatching(
            new RegExp(
              `^Warning FailedScheduling on Pod/${pod.name}: .*Insufficient cpu`,
            ),
          ),
        ]),
      );
      // The error is the operation's error; it is not repeated as a line.
      expect(lines.filter(line => line === operation.error)).toEqual([]);

      expect(await allRows(knex)).not.toContain(API_TOKEN);
    });

    it('keeps the last lines of a crashed container with its state and the BackOff event, and no secret in the database', async () => {
      // The pod that cannot be scheduled is set crashing and bound to the
      // KWOK node by the test, as if it had started there: KWOK leaves a
      // pod that has an IP alone, and serves its logs.
      const crashing = new AbortController();
      const crashed = crashUnschedulableReleasePods(
        admin,
        'team-a',
        releaseName,
        crashing.signal,
      );
      const operation = await run(server, planId, 'apply').finally(() =>
        crashing.abort(),
      );
      const [pod] = await crashed;
      expect(operation.status).toBe('failed');
      expect(operation.result.diagnosis.pods).toEqual([
        expect.objectContaining({
          name: pod,
          healthy: false,
          health: 'container web: CrashLoopBackOff',
          restarts: 4,
        }),
      ]);
      expect(operation.result.diagnosis.events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            object: `Pod/${pod}`,
            type: 'Warning',
            reason: 'BackOff',
          }),
        ]),
      );
      expect(operation.result.diagnosis.logs).toEqual([
        {
          pod,
          container: 'web',
          previous: true,
          lines: [
            'level=info msg="starting" version=previous',
            'level=error msg="out of memory, exiting" code=137',
          ],
          truncated: false,
        },
      ]);
      expect(await allRows(knex)).not.toContain(API_TOKEN);
    });
  },
);
