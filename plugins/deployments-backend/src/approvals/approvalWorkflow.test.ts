/*
 * Four-eyes approval end to end through the HTTP API, against the local
 * stack's kube-apiserver, helm CLI and OCI registry, on PostgreSQL: on a
 * target that requires approval, apply and uninstall start only with another
 * user's approval of exactly that change, and each approval starts one.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  API,
  bootstrapKeyring,
  createAdminTarget,
  createPlan,
  ensure,
  paymentsApi,
  registerChart,
  startDeploymentsBackend,
  TestServer as Server,
  waitForOperation as waitFor,
} from '../__testUtils__/deploymentsTestBackend';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const ALICE = 'user:default/alice';
const BOB = 'user:default/bob';
const releaseName = `t-approve-${randomBytes(3).toString('hex')}`;

const as = (user: string) => ({
  Authorization: mockCredentials.user.header(user),
});

describe('four-eyes approval workflow (POSTGRES)', () => {
  let server: Server;
  let planId: string;

  beforeAll(async () => {
    ({ server } = await startDeploymentsBackend({
      knex: await databases.init(databases.eachSupportedId()[0][0]),
      deployments: {
        approvals: { ttlMinutes: 30, notify: ['group:default/sre'] },
      },
      entities: [paymentsApi('payments')],
    }));
    await bootstrapKeyring(server);
    await createAdminTarget(server, stack, {
      name: 'guarded',
      owner: 'group:default/platform',
      allowedNamespaces: ['team-a'],
      requireApproval: true,
    });
    planId = await createPlan(
      server,
      {
        chartId: await registerChart(server, stack),
        target: 'guarded',
        namespace: 'team-a',
        releaseName,
      },
      as(ALICE),
    );
  });

  afterAll(async () => {
    await runHelm(
      ['uninstall', releaseName, '-n', 'team-a', '--ignore-not-found'],
      { kubeconfig: stack.adminKubeconfigPath },
    ).catch(() => undefined);
  });

  const start = (user: string, step: string, body: object = {}) =>
    request(server)
      .post(`${API}/plans/${planId}/${step}`)
      .set(as(user))
      .send(body);

  it('applies only with another user’s approval of the dry-run, once; uninstalls only with an approval too', async () => {
    for (const step of ['dry-run', 'preflight']) {
      const started = await start(ALICE, step);
      ensure(started, 202);
      expect((await waitFor(server, started.body.id)).status).toBe('succeeded');
    }

    const unapproved = await start(ALICE, 'apply');
    expect(unapproved.status).toBe(403);
    expect(unapproved.body.error.message).toMatch(
      /needs an approval by another user: request one/,
    );

    const requested = await start(ALICE, 'approvals', {
      kind: 'apply',
      comment: 'first release',
    });
    expect(requested.status).toBe(201);
    const plan = await request(server)
      .get(`${API}/plans/${planId}`)
      .set(as(ALICE));
    expect(requested.body).toMatchObject({
      status: 'pending',
      dryRunOperationId: plan.body.lastDryRun.operationId,
      inputsHash: plan.body.lastDryRun.inputsHash,
    });

    const waiting = await start(ALICE, 'apply');
    expect(waiting.status).toBe(403);
    expect(waiting.body.error.message).toMatch(
      /pending request from user:default\/alice is waiting/,
    );

    const decision = `approvals/${requested.body.id}/decision`;
    expect((await start(ALICE, decision, { decision: 'approve' })).status).toBe(
      403,
    );
    const approved = await start(BOB, decision, { decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');

    const applied = await start(ALICE, 'apply');
    expect(applied.status).toBe(202);
    expect(await waitFor(server, applied.body.id)).toMatchObject({
      status: 'succeeded',
      result: { helmRevision: 1 },
    });

    // One approval, one change.
    const again = await start(ALICE, 'apply');
    expect(again.status).toBe(403);
    expect(again.body.error.message).toContain(
      `used by operation ${applied.body.id}`,
    );
    const listed = await request(server)
      .get(`${API}/plans/${planId}/approvals`)
      .set(as(BOB));
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        id: requested.body.id,
        status: 'used',
        usedByOperationId: applied.body.id,
      }),
    ]);

    // Uninstall: Bob asks, Alice approves, a third user runs it.
    const confirm = { confirmReleaseName: releaseName };
    expect((await start(BOB, 'uninstall', confirm)).status).toBe(403);
    const uninstallRequest = await start(BOB, 'approvals', {
      kind: 'uninstall',
    });
    expect(uninstallRequest.status).toBe(201);
    ensure(
      await start(ALICE, `approvals/${uninstallRequest.body.id}/decision`, {
        decision: 'approve',
      }),
      200,
    );
    const uninstalled = await start('user:default/carol', 'uninstall', confirm);
    expect(uninstalled.status).toBe(202);
    expect((await waitFor(server, uninstalled.body.id)).status).toBe(
      'succeeded',
    );
  });
});
