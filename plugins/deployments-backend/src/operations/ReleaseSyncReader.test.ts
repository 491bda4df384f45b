/*
 * The sync state of a plan's release through GET /plans/{id}/sync, against
 * the local stack's real kube-apiserver, helm CLI and OCI registry, on
 * PostgreSQL and SQLite: an apply through the portal is in sync; a profile
 * change, `helm rollback` and `helm upgrade` by hand, and a rollback
 * through the portal each make it differ, saying how.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ReleaseSyncState } from '@kubedeploy/plugin-deployments-common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const API = '/api/deployments';
const ENTITY = 'component:default/payments-api';
const NAMESPACE = 'team-a';

type Server = Parameters<typeof request>[0];

function ensure(response: { status: number; body: unknown }, status = 201) {
  if (response.status !== status) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

async function waitFor(server: Server, operationId: string) {
  for (let i = 0; i < 600; i++) {
    const response = await request(server).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

/** Runs an operation and throws unless it succeeded. */
async function run(server: Server, planId: string, step: string, body = {}) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .send(body);
  ensure(started, 202);
  const finished = await waitFor(server, started.body.id);
  if (finished.status !== 'succeeded') {
    throw new Error(`${step} ${finished.status}: ${finished.error}`);
  }
  return finished;
}

async function deploy(server: Server, planId: string) {
  await run(server, planId, 'dry-run');
  await run(server, planId, 'preflight');
  return run(server, planId, 'apply');
}

async function syncOf(server: Server, planId: string) {
  const response = await request(server).get(`${API}/plans/${planId}/sync`);
  expect(response.status).toBe(200);
  return response.body as ReleaseSyncState;
}

function fieldsOf(state: ReleaseSyncState) {
  return state.differences.map(d => d.field).sort();
}

describe.each(databases.eachSupportedId())(
  'release sync state (%s)',
  databaseId => {
    const suffix = randomBytes(3).toString('hex');
    const releaseName = `t-sync-${databaseId
      .toLowerCase()
      .replace(/_/g, '')}-${suffix}`;
    const helmAsAdmin = (args: string[]) =>
      runHelm(args, { kubeconfig: stack.adminKubeconfigPath });
    let server: Server;
    let planId: string;
    let profileId: string;

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
                spec: { type: 'service', lifecycle: 'production', owner: 'x' },
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
            allowedNamespaces: [NAMESPACE],
            credentials: {
              authKind: 'kubeconfig',
              kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
            },
          }),
      );
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      ensure(chart);
      const profile = await request(server)
        .post(`${API}/profiles`)
        .send({
          chartId: chart.body.id,
          name: `sync-${suffix}`,
          values: { greeting: 'first' },
        });
      ensure(profile);
      profileId = profile.body.id;
      const plan = await request(server)
        .post(`${API}/plans`)
        .send({
          entityRef: ENTITY,
          chartId: chart.body.id,
          target: 'local',
          namespace: NAMESPACE,
          releaseName,
          profileId,
          options: { timeoutSeconds: 120 },
        });
      ensure(plan);
      planId = plan.body.id;
    });

    afterAll(async () => {
      await helmAsAdmin([
        'uninstall',
        releaseName,
        '-n',
        NAMESPACE,
        '--ignore-not-found',
      ]).catch(() => undefined);
    });

    it('says not installed before the first apply', async () => {
      expect(await syncOf(server, planId)).toMatchObject({
        status: 'not-installed',
        differences: [],
      });
    });

    it('is in sync after an apply through the portal', async () => {
      await deploy(server, planId);
      const state = await syncOf(server, planId);
      expect(state).toMatchObject({
        status: 'in-sync',
        differences: [],
        live: {
          revision: 1,
          status: 'deployed',
          chart: 'hello-0.1.0',
          madeByPortal: true,
          actor: 'user:default/mock',
          planRevision: 1,
        },
      });
    });

    it('differs in values once the profile changes, until applied again', async () => {
      ensure(
        await request(server)
          .put(`${API}/profiles/${profileId}`)
          .send({ values: { greeting: 'second' } }),
        200,
      );
      const state = await syncOf(server, planId);
      expect(state.status).toBe('differs');
      expect(fieldsOf(state)).toEqual(['values']);
      await deploy(server, planId);
      expect(await syncOf(server, planId)).toMatchObject({
        status: 'in-sync',
        live: { revision: 2, madeByPortal: true },
      });
    });

    it('differs after `helm rollback` by hand: the revision was not made by the portal', async () => {
      await helmAsAdmin(['rollback', releaseName, '1', '-n', NAMESPACE]);
      const state = await syncOf(server, planId);
      expect(state).toMatchObject({
        status: 'differs',
        live: { revision: 3, madeByPortal: false },
        differences: [
          {
            field: 'revision',
            message:
              'revision 3 was not made by the portal (helm: "Rollback to 1")',
          },
        ],
      });
      expect(state.summary).toContain('revision 3 was not made by the portal');
    });

    it('differs after `helm upgrade` by hand, and is in sync again after the portal applies', async () => {
      await deploy(server, planId);
      expect((await syncOf(server, planId)).status).toBe('in-sync');
      await helmAsAdmin([
        'upgrade',
        releaseName,
        `oci://${stack.registry}/charts/hello`,
        '--version',
        '0.1.0',
        '--plain-http',
        '-n',
        NAMESPACE,
        '--reuse-values',
        '--set',
        'greeting=by-hand',
      ]);
      const state = await syncOf(server, planId);
      expect(state).toMatchObject({
        status: 'differs',
        live: { revision: 5, madeByPortal: false },
      });
      expect(fieldsOf(state)).toEqual(['revision']);
      expect(state.differences[0].message).toMatch(
        /^revision 5 was not made by the portal/,
      );
    });

    it('differs after a rollback through the portal, naming the rollback and the plan revision', async () => {
      // Revision 1 was deployed from the profile's first values and the plan
      // unchanged since; the plan's timeout changes, so its revision moves.
      const current = await request(server).get(`${API}/plans/${planId}`);
      ensure(
        await request(server)
          .put(`${API}/plans/${planId}`)
          .send({
            options: { ...current.body.options, timeoutSeconds: 150 },
            expectedRevision: current.body.revision,
          }),
        200,
      );
      await deploy(server, planId);
      expect(await syncOf(server, planId)).toMatchObject({
        status: 'in-sync',
        live: { revision: 6, planRevision: 2 },
      });
      await run(server, planId, 'rollback', { revision: 1 });
      const state = await syncOf(server, planId);
      expect(state).toMatchObject({
        status: 'differs',
        live: {
          revision: 7,
          madeByPortal: true,
          actor: 'user:default/mock',
          planRevision: 1,
        },
      });
      expect(state.differences).toEqual([
        {
          field: 'revision',
          message:
            'revision 7 is a rollback to revision 1 (by user:default/mock)',
        },
        {
          field: 'values',
          message:
            "revision 7 was deployed with other values than the plan's profile revision holds",
        },
        {
          field: 'plan-revision',
          message:
            'revision 7 was deployed from plan revision 1; the plan is at revision 2',
        },
      ]);
    });

    it('answers 404 for a plan that does not exist', async () => {
      const response = await request(server).get(
        `${API}/plans/00000000-0000-4000-8000-000000000000/sync`,
      );
      expect([403, 404]).toContain(response.status);
    });
  },
);
