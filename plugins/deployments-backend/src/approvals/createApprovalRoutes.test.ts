/*
 * Approval requests and decisions through the HTTP API, on real PostgreSQL
 * and SQLite, with a permission policy that differs per user: the plan
 * permissions are checked on the plan, the requester never decides their
 * own request, and every step lands in the audit trail.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { deploymentsPlugin } from '../plugin';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const API = '/api/deployments';
const ALICE = 'user:default/alice';
const BOB = 'user:default/bob';
const CAROL = 'user:default/carol';

/** Alice and Bob may do everything; Carol may read and request but not approve. */
function allowed(user: string, permission: string): boolean {
  if (user === ALICE || user === BOB) return true;
  if (user === CAROL) return permission !== 'deployments.plan.approve';
  return false;
}

describe.each(databases.eachSupportedId())(
  'approval routes (%p)',
  databaseId => {
    it('requests, refuses the requester and users without deployments.plan.approve, records a second user’s decision, audits each step', async () => {
      const knex = await databases.init(databaseId);
      await createPlanPrerequisites(knex);
      await knex('deployments_targets')
        .where({ id: 'target-prod' })
        .update({ require_approval: true });
      await DatabasePlanStore.create(knex).insert(
        storedPlan({
          id: 'plan-prod',
          entityRef: 'component:default/payments-api',
          releaseName: 'payments',
          targetId: 'target-prod',
          targetName: 'prod',
        }),
      );
      const decide = async (
        requests: Array<{ permission: { name: string } }>,
        credentials: { principal: unknown },
      ) => {
        const user = (credentials.principal as { userEntityRef: string })
          .userEntityRef;
        return requests.map(r => ({
          result: allowed(user, r.permission.name)
            ? AuthorizeResult.ALLOW
            : AuthorizeResult.DENY,
        }));
      };
      const permissions = mockServices.permissions.mock({
        authorize: async (requests, { credentials }) =>
          (await decide(requests, credentials)) as any,
        authorizeConditional: async (requests, { credentials }) =>
          (await decide(requests, credentials)) as any,
      });
      const { server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          permissions.factory,
          mockServices.database.factory({ knex }),
          catalogServiceMock.factory({ entities: [] }),
        ],
      });
      const as = (user: string) => ({
        Authorization: mockCredentials.user.header(user),
      });

      const requested = await request(server)
        .post(`${API}/plans/plan-prod/approvals`)
        .set(as(ALICE))
        .send({ kind: 'uninstall', comment: 'decommission' });
      expect(requested.status).toBe(201);
      expect(requested.body).toMatchObject({
        planId: 'plan-prod',
        kind: 'uninstall',
        status: 'pending',
        requestedBy: ALICE,
        comment: 'decommission',
      });
      const approvalId = requested.body.id;
      const decision = `${API}/plans/plan-prod/approvals/${approvalId}/decision`;

      // The policy allows Alice to approve; four eyes does not.
      const own = await request(server)
        .post(decision)
        .set(as(ALICE))
        .send({ decision: 'approve' });
      expect(own.status).toBe(403);
      expect(own.body.error.message).toMatch(/their own approval request/);

      const carol = await request(server)
        .post(decision)
        .set(as(CAROL))
        .send({ decision: 'approve' });
      expect(carol.status).toBe(403);
      expect(carol.body.error.message).toMatch(/deployments\.plan\.approve/);

      const stranger = await request(server)
        .get(`${API}/plans/plan-prod/approvals`)
        .set(as('user:default/mallory'));
      expect(stranger.status).toBe(403);

      const approved = await request(server)
        .post(decision)
        .set(as(BOB))
        .send({ decision: 'approve', comment: 'ok' });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({
        status: 'approved',
        decidedBy: BOB,
        decisionComment: 'ok',
      });

      const listed = await request(server)
        .get(`${API}/plans/plan-prod/approvals`)
        .set(as(CAROL));
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({
        totalCount: 1,
        items: [{ id: approvalId, status: 'approved' }],
      });

      const notFound = await request(server)
        .post(`${API}/plans/plan-prod/approvals/no-such-id/decision`)
        .set(as(BOB))
        .send({ decision: 'reject' });
      expect(notFound.status).toBe(404);

      const unknownPlan = await request(server)
        .post(`${API}/plans/plan-missing/approvals`)
        .set(as(ALICE))
        .send({ kind: 'uninstall' });
      expect(unknownPlan.status).toBe(404);

      const trail = await knex('deployments_audit_events')
        .whereIn('event_id', [
          'plan-approval-request',
          'plan-approval-decision',
        ])
        .orderBy('id');
      expect(trail.map(e => [e.event_id, e.actor, e.outcome])).toEqual([
        ['plan-approval-request', ALICE, 'succeeded'],
        ['plan-approval-decision', ALICE, 'denied'],
        ['plan-approval-decision', CAROL, 'denied'],
        ['plan-approval-decision', BOB, 'succeeded'],
        ['plan-approval-decision', BOB, 'failed'],
        ['plan-approval-request', ALICE, 'failed'],
      ]);
    });
  },
);
