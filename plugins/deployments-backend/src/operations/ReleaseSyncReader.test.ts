/*
 * The sync state of a plan's release through GET /plans/{id}/sync, against
 * the local stack's real kube-apiserver, helm CLI and OCI registry, on
 * PostgreSQL and SQLite: an apply through the portal is in sync; a profile
 * change, `helm rollback` and `helm upgrade` by hand, and a rollback
 * through the portal each make it differ, saying how.
 */
import { ReleaseSyncState } from '@kubedeploy/plugin-deployments-common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  API,
  bootstrapKeyring,
  createAdminTarget,
  createPlan,
  deploy,
  ensure,
  registerChart,
  runStep,
  startDeploymentsBackend,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const NAMESPACE = 'team-a';

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
      ({ server } = await startDeploymentsBackend({
        knex: await databases.init(databaseId),
      }));
      await bootstrapKeyring(server);
      await createAdminTarget(server, stack, {
        name: 'local',
        allowedNamespaces: [NAMESPACE],
      });
      const chartId = await registerChart(server, stack);
      const profile = await request(server)
        .post(`${API}/profiles`)
        .send({
          chartId,
          name: `sync-${suffix}`,
          values: { greeting: 'first' },
        });
      ensure(profile);
      profileId = profile.body.id;
      planId = await createPlan(server, {
        chartId,
        target: 'local',
        namespace: NAMESPACE,
        releaseName,
        profileId,
      });
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
      await runStep(server, planId, 'rollback', { revision: 1 });
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
