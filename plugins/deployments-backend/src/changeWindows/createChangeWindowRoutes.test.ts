/*
 * Change windows through the HTTP API on real PostgreSQL and SQLite:
 * settings are checked when a target is written, a plan's window state is
 * readable, and (on PostgreSQL, against the local stack's cluster, helm and
 * registry) an apply outside the window is refused until an emergency
 * override with a reason lets it through.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { ChangeWindowSettings } from '@kubedeploy/plugin-deployments-common';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  API,
  ensure,
  TestServer as Server,
  waitForOperation as waitFor,
} from '../__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const suffix = randomBytes(3).toString('hex');
const installed: Array<{ release: string; namespace: string }> = [];

async function run(server: Server, planId: string, step: string) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .send({});
  ensure(started, 202);
  return waitFor(server, started.body.id);
}

/**
 * A daily 30-minute window in UTC that opens two hours from now (on the
 * minute), so it is closed while the test runs.
 */
function windowOpeningLater(): {
  settings: ChangeWindowSettings;
  opensAt: string;
} {
  const opens = new Date(Date.now() + 2 * 60 * 60 * 1000);
  opens.setUTCSeconds(0, 0);
  return {
    settings: {
      timeZone: 'UTC',
      windows: [
        {
          cron: `${opens.getUTCMinutes()} ${opens.getUTCHours()} * * *`,
          durationMinutes: 30,
        },
      ],
      freezes: [],
    },
    opensAt: opens.toISOString(),
  };
}

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

describe.each(databases.eachSupportedId())(
  'change windows (%p)',
  databaseId => {
    let server: Server;
    let chartId: string;

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
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      ensure(chart);
      chartId = chart.body.id;
    });

    it('refuses invalid settings with a 400 naming each problem, storing nothing', async () => {
      const before = await request(server).get(`${API}/targets/local`);
      const refused = await request(server)
        .patch(`${API}/targets/local`)
        .send({
          changeWindows: {
            timeZone: 'Europe/Berlin',
            windows: [
              { cron: '0 9 * * 1-5', durationMinutes: 480 },
              { cron: '0 9 * * 1-5 *', durationMinutes: 60 },
            ],
            freezes: [
              {
                start: '2027-12-20T00:00:00',
                end: '2028-01-03T00:00:00Z',
                reason: 'year-end',
              },
            ],
          },
        });
      expect(refused.status).toBe(400);
      expect(refused.body.error.name).toBe('InputError');
      expect(refused.body.error.message).toContain(
        'windows[1].cron: "0 9 * * 1-5 *" has 6 field(s); expected 5 fields',
      );
      expect(refused.body.error.message).toContain(
        'freezes[0].start: "2027-12-20T00:00:00" is not an ISO 8601 instant with an offset',
      );

      const after = await request(server).get(`${API}/targets/local`);
      expect(after.body.changeWindows).toBeUndefined();
      expect(after.body.revision).toBe(before.body.revision);
    });

    it('stores valid settings and returns them as written', async () => {
      const settings: ChangeWindowSettings = {
        timeZone: 'Europe/Berlin',
        windows: [{ cron: '0 9 * * 1-5', durationMinutes: 480 }],
        freezes: [
          {
            start: '2027-12-20T00:00:00+01:00',
            end: '2028-01-03T00:00:00+01:00',
            reason: 'year-end freeze',
          },
        ],
      };
      const updated = await request(server)
        .patch(`${API}/targets/local`)
        .send({ changeWindows: settings });
      expect(updated.status).toBe(200);
      expect(updated.body.changeWindows).toEqual(settings);
      const read = await request(server).get(`${API}/targets/local`);
      expect(read.body.changeWindows).toEqual(settings);

      // No windows and no freezes: always open. (The API has no null to
      // remove the settings.)
      const opened = await request(server)
        .patch(`${API}/targets/local`)
        .send({ changeWindows: { timeZone: 'UTC', windows: [], freezes: [] } });
      expect(opened.status).toBe(200);
    });

    it("reads a plan's window state; apply outside it is refused with the next opening, an override with a reason lets it through", async () => {
      const releaseName = `t-window-${suffix}-${databaseId
        .replace(/[^a-z0-9]/gi, '')
        .toLowerCase()}`;
      const plan = await request(server)
        .post(`${API}/plans`)
        .send({
          entityRef: 'component:default/payments-api',
          chartId,
          target: 'local',
          namespace: 'team-a',
          releaseName,
          options: { timeoutSeconds: 120 },
        });
      ensure(plan);
      const planId = plan.body.id;

      const always = await request(server).get(
        `${API}/plans/${planId}/change-window`,
      );
      expect(always.status).toBe(200);
      expect(always.body).toEqual({ open: true });
      const missing = await request(server).get(
        `${API}/plans/no-such-plan/change-window`,
      );
      expect(missing.status).toBe(404);

      const { settings, opensAt } = windowOpeningLater();
      ensure(
        await request(server)
          .patch(`${API}/targets/local`)
          .send({ changeWindows: settings }),
        200,
      );
      const closed = await request(server).get(
        `${API}/plans/${planId}/change-window`,
      );
      expect(closed.body).toEqual({
        open: false,
        reason: 'outside every change window',
        nextOpenAt: opensAt,
      });

      // Through the real workflow only on PostgreSQL: it installs a release.
      if (databaseId === 'SQLITE_3') return;
      installed.push({ release: releaseName, namespace: 'team-a' });
      expect((await run(server, planId, 'dry-run')).status).toBe('succeeded');
      expect((await run(server, planId, 'preflight')).status).toBe('succeeded');

      const refused = await request(server)
        .post(`${API}/plans/${planId}/apply`)
        .send({});
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toBe(
        `Target local accepts changes only in its change windows; it is closed (outside every change window) and next opens at ${opensAt.replace(
          /:00\.000Z$/,
          'Z',
        )} (UTC). An emergency override needs deployments.change-window.override and a reason.`,
      );

      const overridden = await request(server)
        .post(`${API}/plans/${planId}/apply`)
        .send({ overrideReason: 'payment outage INC-4711' });
      expect(overridden.status).toBe(202);
      expect((await waitFor(server, overridden.body.id)).status).toBe(
        'succeeded',
      );
      const trail = await request(server).get(`${API}/audit`);
      expect(trail.body.items).toContainEqual(
        expect.objectContaining({
          eventId: 'change-window-override',
          subject: planId,
          outcome: 'succeeded',
          meta: expect.objectContaining({
            target: 'local',
            kind: 'apply',
            reason: 'payment outage INC-4711',
            operationId: overridden.body.id,
          }),
        }),
      );
    });
  },
);
