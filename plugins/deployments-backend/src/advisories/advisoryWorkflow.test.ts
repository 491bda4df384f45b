/*
 * Patch advisories end to end, on PostgreSQL and SQLite, against the local
 * stack's kube-apiserver, helm and anonymous OCI registry, with the real
 * notifications backend: a release running image 1.2.3 and chart 0.1.0 gets
 * advisories for 1.2.4 (patch), 1.3.0 (minor), the chart's 0.1.1 (patch), a
 * re-pushed digest and a tag that is no version; the scheduled check finds
 * them, the owners hear of each once; a dismissal is audited; the chart
 * patch becomes a plan revision whose dry-run runs, and applying it resolves
 * what it replaced; a release whose registry is down records that and
 * nothing else fails.
 */
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabaseId,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import notificationsPlugin from '@backstage/plugin-notifications-backend';
import {
  Advisory,
  PlanAdvisories,
} from '@kubedeploy/plugin-deployments-common';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { pushTestChart, pushTestImage } from '../__testUtils__/ociImages';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  databasePerPlugin,
  ensure,
  paymentsTeam,
  TestServer as Server,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const ALICE = 'user:default/alice';
const CAROL = 'user:default/carol';

const as = (user: string) => ({
  Authorization: mockCredentials.user.header(user),
});

/** A loopback port nothing listens on: a registry that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise(resolve => server.close(resolve));
  return port;
}

const entities = paymentsTeam(['alice', 'carol']);

/** A chart with an init container pinned by digest, the app from values and a sidecar on a tag that is no version. */
function chartFiles(options: {
  version: string;
  appRepository: string;
  appTag: string;
  initImage: string;
  sidecarImage: string;
}): Record<string, string> {
  const labels = '{ app.kubernetes.io/instance: "{{ .Release.Name }}" }';
  return {
    'Chart.yaml': `apiVersion: v2\nname: advised\nversion: ${options.version}\n`,
    'values.yaml': [
      'image:',
      `  repository: ${options.appRepository}`,
      `  tag: "${options.appTag}"`,
      `initImage: "${options.initImage}"`,
      `sidecarImage: "${options.sidecarImage}"`,
      '',
    ].join('\n'),
    'values.schema.json': JSON.stringify({
      type: 'object',
      properties: {
        image: {
          type: 'object',
          properties: {
            repository: { type: 'string' },
            tag: { type: 'string' },
          },
        },
        initImage: { type: 'string' },
        sidecarImage: { type: 'string' },
      },
    }),
    'templates/deployment.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: {{ .Release.Name }}',
      `  labels: ${labels}`,
      'spec:',
      '  replicas: 1',
      `  selector: { matchLabels: ${labels} }`,
      '  template:',
      `    metadata: { labels: ${labels} }`,
      '    spec:',
      '      securityContext: { runAsNonRoot: true, runAsUser: 101 }',
      '      initContainers:',
      '        - name: init',
      '          image: {{ .Values.initImage | quote }}',
      '      containers:',
      '        - name: app',
      '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"',
      '        - name: sidecar',
      '          image: {{ .Values.sidecarImage | quote }}',
      '',
    ].join('\n'),
  };
}

describe.each(databases.eachSupportedId())(
  'patch advisories (%s)',
  (databaseId: TestDatabaseId) => {
    const suffix = randomBytes(3).toString('hex');
    const prefix = `adv-${suffix}`;
    const releaseName = `t-adv-${suffix}`;
    const downReleaseName = `t-adv-down-${suffix}`;
    const appRepository = `${stack.registry}/${prefix}/app`;
    let initImage: string;
    let server: Server;
    let planId: string;
    let downPlanId: string;
    let downProfileId: string;
    let downRegistry: string;
    // Tasks run when the test triggers them, as a replica's scheduler would.
    const scheduler = mockServices.scheduler();

    const waitFor = async (operationId: string) => {
      for (let i = 0; i < 600; i++) {
        const response = await request(server)
          .get(`${API}/operations/${operationId}`)
          .set(as(ALICE));
        if (response.body.status !== 'running') return response.body;
        await new Promise(resolve => setTimeout(resolve, 500));
      }
      throw new Error(`operation ${operationId} did not finish`);
    };

    const run = async (id: string, step: string) => {
      const started = await request(server)
        .post(`${API}/plans/${id}/${step}`)
        .set(as(ALICE))
        .send({});
      ensure(started, 202);
      return waitFor(started.body.id);
    };

    const deploy = async (id: string) => {
      for (const step of ['dry-run', 'preflight', 'apply']) {
        const finished = await run(id, step);
        if (finished.status !== 'succeeded') {
          throw new Error(`${step}: ${JSON.stringify(finished)}`);
        }
      }
    };

    const advisoriesOf = async (
      id: string,
      query = '',
    ): Promise<PlanAdvisories> => {
      const response = await request(server)
        .get(`${API}/plans/${id}/advisories${query}`)
        .set(as(ALICE));
      ensure(response, 200);
      return response.body;
    };

    const check = async (id: string): Promise<PlanAdvisories> => {
      const response = await request(server)
        .post(`${API}/plans/${id}/advisories/check`)
        .set(as(ALICE));
      ensure(response, 200);
      return response.body;
    };

    const find = (items: Advisory[], subject: string, kind: string) =>
      items.find(a => a.subject === subject && a.kind === kind);

    beforeAll(async () => {
      for (const tag of ['1.2.3', '1.2.4', '1.3.0', 'nightly']) {
        await pushTestImage(stack.registry, `${prefix}/app`, tag);
      }
      const initDigest = await pushTestImage(
        stack.registry,
        `${prefix}/init`,
        '1.0.0',
        'first',
      );
      initImage = `${stack.registry}/${prefix}/init:1.0.0@${initDigest}`;
      for (const [version, appTag] of [
        ['0.1.0', '1.2.3'],
        ['0.1.1', '1.2.4'],
      ]) {
        await pushTestChart(
          stack.registry,
          prefix,
          chartFiles({
            version,
            appRepository,
            appTag,
            initImage,
            sidecarImage: `${appRepository}:nightly`,
          }),
        );
      }
      downRegistry = `127.0.0.1:${await closedPort()}`;

      const knexes = {
        deployments: await databases.init(databaseId),
        notifications: await databases.init(databaseId),
      };
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          notificationsPlugin,
          databasePerPlugin(knexes),
          createServiceFactory({
            service: coreServices.scheduler,
            deps: {},
            factory: () => scheduler,
          }),
          mockServices.rootConfig.factory({
            data: {
              app: { baseUrl: 'http://localhost:3000' },
              deployments: {
                registries: { allowLoopback: true },
                operations: { heartbeatSeconds: 1 },
              },
            },
          }),
          catalogServiceMock.factory({ entities }),
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
            allowedNamespaces: ['team-a'],
            credentials: {
              authKind: 'kubeconfig',
              kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
            },
          }),
      );
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/${prefix}/advised`,
          version: '0.1.0',
        });
      ensure(chart);
      const plan = await request(server)
        .post(`${API}/plans`)
        .set(as(ALICE))
        .send({
          entityRef: 'component:default/payments-api',
          chartId: chart.body.id,
          target: 'local',
          namespace: 'team-a',
          releaseName,
          options: { timeoutSeconds: 120 },
        });
      ensure(plan);
      planId = plan.body.id;

      // The same chart, its app image on a registry that is down.
      const profile = await request(server)
        .post(`${API}/profiles`)
        .set(as(ALICE))
        .send({
          chartId: chart.body.id,
          name: `down-${suffix}`,
          values: { image: { repository: `${downRegistry}/team/app` } },
        });
      ensure(profile);
      downProfileId = profile.body.id;
      const downPlan = await request(server)
        .post(`${API}/plans`)
        .set(as(ALICE))
        .send({
          entityRef: 'component:default/payments-api',
          chartId: chart.body.id,
          profileId: profile.body.id,
          target: 'local',
          namespace: 'team-a',
          releaseName: downReleaseName,
          options: { timeoutSeconds: 120 },
        });
      ensure(downPlan);
      downPlanId = downPlan.body.id;
      await deploy(planId);
      await deploy(downPlanId);
    });

    afterAll(async () => {
      for (const name of [releaseName, downReleaseName]) {
        await runHelm(
          ['uninstall', name, '-n', 'team-a', '--ignore-not-found'],
          {
            kubeconfig: stack.adminKubeconfigPath,
          },
        ).catch(() => undefined);
      }
    });

    it('the scheduled check finds patch 1.2.4, minor 1.3.0, chart 0.1.1 and reports the tag that is no version as unknown', async () => {
      const tasks = await scheduler.getScheduledTasks();
      expect(tasks).toContainEqual(
        expect.objectContaining({
          id: 'deployments-check-advisories',
          scope: 'global',
        }),
      );
      expect((await advisoriesOf(planId)).check).toBeUndefined();
      await scheduler.triggerTask('deployments-check-advisories');
      const found = await advisoriesOf(planId);
      expect(found.check).toBeDefined();
      const items = found.items;
      expect(found.check!.running.chart).toMatchObject({
        name: 'advised',
        version: '0.1.0',
      });
      expect(found.check!.running.images).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            container: 'app',
            image: `${appRepository}:1.2.3`,
          }),
          expect.objectContaining({ container: 'init', init: true }),
        ]),
      );
      expect(
        find(items, `Deployment/${releaseName}/app`, 'patch'),
      ).toMatchObject({
        running: `${appRepository}:1.2.3`,
        available: '1.2.4',
        state: 'open',
        remedy: {
          type: 'values',
          valuesPath: 'image.tag',
          from: '1.2.3',
          to: '1.2.4',
          valuesYaml: 'image:\n  tag: 1.2.4\n',
        },
      });
      expect(
        find(items, `Deployment/${releaseName}/app`, 'minor'),
      ).toMatchObject({
        available: '1.3.0',
      });
      expect(
        find(items, `Deployment/${releaseName}/app`, 'major'),
      ).toBeUndefined();
      expect(find(items, 'chart', 'patch')).toMatchObject({
        running: '0.1.0',
        available: '0.1.1',
        remedy: {
          type: 'chart-version',
          reference: `oci://${stack.registry}/${prefix}/advised`,
          version: '0.1.1',
        },
      });
      expect(
        find(items, `Deployment/${releaseName}/sidecar`, 'unknown'),
      ).toMatchObject({
        detail: expect.stringContaining('not a semantic version'),
      });
      expect(found.check!.problems).toEqual([]);
    });

    it('a re-pushed tag of a digest-pinned image gives a digest advisory with the command to copy', async () => {
      const moved = await pushTestImage(
        stack.registry,
        `${prefix}/init`,
        '1.0.0',
        'second',
      );
      const { items } = await check(planId);
      expect(
        find(items, `Deployment/${releaseName}/init`, 'digest'),
      ).toMatchObject({
        initContainer: true,
        available: '1.0.0',
        availableDigest: moved,
        remedy: {
          type: 'command',
          command: `kubectl -n team-a set image deployment/${releaseName} init=${stack.registry}/${prefix}/init:1.0.0@${moved}`,
        },
      });
    });

    it('tells the owners once per advisory, through the notifications backend', async () => {
      await check(planId);
      const response = await request(server)
        .get('/api/notifications/notifications')
        .set(as(CAROL));
      ensure(response, 200);
      const ours = (
        response.body.notifications as Array<{
          payload: { title: string; topic: string; scope: string };
        }>
      ).filter(n => n.payload.topic === `deployments-advisory:${planId}`);
      const titles = ours.map(n => n.payload.title).sort();
      expect(titles).toEqual([
        `Chart patch available for ${releaseName}: advised 0.1.1`,
        `Image minor available for ${releaseName}: ${appRepository} 1.3.0`,
        `Image patch available for ${releaseName}: ${appRepository} 1.2.4`,
      ]);
      const alice = await request(server)
        .get('/api/notifications/notifications')
        .set(as(ALICE));
      expect(
        alice.body.notifications.filter(
          (n: { payload: { topic: string } }) =>
            n.payload.topic === `deployments-advisory:${planId}`,
        ),
      ).toEqual([]);
    });

    it('a registry that is down is the release’s recorded problem; the other release is checked all the same', async () => {
      const down = await check(downPlanId);
      expect(down.check!.problems).toEqual(
        expect.arrayContaining([
          {
            source: `${downRegistry}/team/app`,
            message: expect.stringMatching(
              new RegExp(`Could not reach ${downRegistry}.*ECONNREFUSED`),
            ),
          },
        ]),
      );
      // Its chart and its other images were still checked.
      expect(find(down.items, 'chart', 'patch')).toBeDefined();
      expect(
        find(down.items, `Deployment/${downReleaseName}/app`, 'patch'),
      ).toBeUndefined();
      const overview = await request(server)
        .get(`${API}/advisories`)
        .set(as(ALICE));
      ensure(overview, 200);
      expect(overview.body.problems).toEqual([
        expect.objectContaining({
          planId: downPlanId,
          releaseName: downReleaseName,
        }),
      ]);
      expect(
        overview.body.items.filter((a: Advisory) => a.planId === planId).length,
      ).toBeGreaterThan(0);
    });

    it('dismisses with a reason until a date, audited; a dismissal without a reason is refused', async () => {
      const { items } = await advisoriesOf(planId);
      const minor = find(items, `Deployment/${releaseName}/app`, 'minor')!;
      const refused = await request(server)
        .post(`${API}/plans/${planId}/advisories/${minor.id}/dismiss`)
        .set(as(ALICE))
        .send({ reason: '' });
      expect(refused.status).toBe(400);
      const until = new Date(Date.now() + 7 * 86400_000).toISOString();
      const dismissed = await request(server)
        .post(`${API}/plans/${planId}/advisories/${minor.id}/dismiss`)
        .set(as(ALICE))
        .send({ reason: 'waiting for the 1.3 migration guide', until });
      expect(dismissed.status).toBe(200);
      expect(dismissed.body).toMatchObject({
        state: 'dismissed',
        dismissedBy: ALICE,
        dismissReason: 'waiting for the 1.3 migration guide',
        dismissedUntil: until,
      });
      // A later check keeps the dismissal.
      const after = await check(planId);
      expect(after.items.find(a => a.id === minor.id)?.state).toBe('dismissed');
      const audit = await request(server)
        .get(`${API}/audit`)
        .set(as(ALICE))
        .query({ limit: 100 });
      expect(audit.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            eventId: 'plan-advisory-dismiss',
            actor: ALICE,
            subject: planId,
            outcome: 'succeeded',
          }),
        ]),
      );
    });

    it('the chart patch becomes a plan revision whose dry-run runs; applying it resolves what it replaced', async () => {
      const { items } = await advisoriesOf(planId);
      const chartPatch = find(items, 'chart', 'patch')!;
      const imageAdvisory = find(
        items,
        `Deployment/${releaseName}/init`,
        'digest',
      )!;
      const notChart = await request(server)
        .post(
          `${API}/plans/${planId}/advisories/${imageAdvisory.id}/plan-revision`,
        )
        .set(as(ALICE));
      expect(notChart.status).toBe(400);

      const revised = await request(server)
        .post(
          `${API}/plans/${planId}/advisories/${chartPatch.id}/plan-revision`,
        )
        .set(as(ALICE));
      expect(revised.status).toBe(201);
      expect(revised.body).toMatchObject({
        revision: 2,
        chart: { name: 'advised', version: '0.1.1' },
      });
      const dryRun = await run(planId, 'dry-run');
      expect(dryRun).toMatchObject({ status: 'succeeded', planRevision: 2 });

      // Nothing is resolved until the new revision is applied.
      expect(
        (await check(planId)).items.find(a => a.id === chartPatch.id)?.state,
      ).toBe('open');
      for (const step of ['preflight', 'apply']) {
        expect((await run(planId, step)).status).toBe('succeeded');
      }
      const after = await check(planId);
      const all = (await advisoriesOf(planId, '?includeResolved=true')).items;
      expect(all.find(a => a.id === chartPatch.id)).toMatchObject({
        state: 'resolved',
        resolvedReason: 'now runs 0.1.1',
      });
      const oldPatch = find(
        all.filter(a => a.running === `${appRepository}:1.2.3`),
        `Deployment/${releaseName}/app`,
        'patch',
      );
      expect(oldPatch).toMatchObject({
        state: 'resolved',
        resolvedReason: `now runs ${appRepository}:1.2.4`,
      });
      // 1.2.4 runs now: no patch, the minor is 1.3.0 from the new running version.
      expect(
        find(after.items, `Deployment/${releaseName}/app`, 'patch'),
      ).toBeUndefined();
      expect(
        find(after.items, `Deployment/${releaseName}/app`, 'minor'),
      ).toMatchObject({
        running: `${appRepository}:1.2.4`,
        available: '1.3.0',
        state: 'open',
      });
      expect(find(after.items, 'chart', 'patch')).toBeUndefined();
    });

    it('a plan whose values profile is for the old version is told to upgrade it first; then the revision takes the upgraded profile', async () => {
      const chartPatch = find(
        (await advisoriesOf(downPlanId)).items,
        'chart',
        'patch',
      )!;
      const click = () =>
        request(server)
          .post(
            `${API}/plans/${downPlanId}/advisories/${chartPatch.id}/plan-revision`,
          )
          .set(as(ALICE));
      const refused = await click();
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(
        /values profile "down-.*" is for another version of the chart; upgrade the profile to advised 0.1.1 first/,
      );
      const charts = await request(server)
        .get(`${API}/charts`)
        .query({ name: 'advised' })
        .set(as(ALICE));
      const newer = charts.body.items.find(
        (c: { version: string }) => c.version === '0.1.1',
      );
      ensure(
        await request(server)
          .post(`${API}/profiles/${downProfileId}/upgrade`)
          .set(as(ALICE))
          .send({ chartId: newer.id }),
        200,
      );
      const revised = await click();
      expect(revised.status).toBe(201);
      expect(revised.body).toMatchObject({
        revision: 2,
        profileId: downProfileId,
        chart: { version: '0.1.1' },
      });
      expect((await run(downPlanId, 'dry-run')).status).toBe('succeeded');
    });
  },
);
