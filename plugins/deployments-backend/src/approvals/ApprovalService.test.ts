/*
 * Four-eyes approval on real PostgreSQL and SQLite: nobody decides their own
 * request, an approval admits exactly one change of exactly what was
 * approved, and changed inputs or time void it.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { NotificationSendOptions } from '@backstage/plugin-notifications-node';
import { OperationCaller, ChangeRequest } from '../operations/changeGates';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import { DatabasePlanStore, StoredPlan } from '../plans/DatabasePlanStore';
import { DatabaseTargetStore } from '../targets/DatabaseTargetStore';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { ApprovalService } from './ApprovalService';
import { DatabaseApprovalStore } from './DatabaseApprovalStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();

const ALICE = 'user:default/alice';
const BOB = 'user:default/bob';
const OWNER = 'group:default/platform';

function caller(actor: string): OperationCaller {
  return {
    actor,
    credentials: {
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef: actor },
    },
  };
}

/** A plan on target `prod` (which requires approval) with a passed dry-run. */
async function setup(knex: Knex) {
  await createPlanPrerequisites(knex);
  await knex('deployments_targets')
    .where({ id: 'target-prod' })
    .update({ require_approval: true, owner: OWNER });
  const planStore = DatabasePlanStore.create(knex);
  const targetStore = DatabaseTargetStore.create(knex);
  const operationStore = DatabaseOperationStore.create(knex);
  await planStore.insert(
    storedPlan({
      id: 'plan-prod',
      entityRef: 'component:default/payments-api',
      releaseName: 'payments',
      targetId: 'target-prod',
      targetName: 'prod',
    }),
  );
  await planStore.insert(
    storedPlan({
      id: 'plan-dev',
      entityRef: 'component:default/payments-api',
      releaseName: 'payments-dev',
    }),
  );

  /** Records a passed dry-run of `inputsHash` whose checked objects have `digest`. */
  const dryRun = async (planId: string, inputsHash: string, digest: string) => {
    const id = `dry-run-${inputsHash}-${digest}`;
    const at = new Date().toISOString();
    await operationStore.insertWithLock({
      id,
      planId,
      planRevision: 1,
      kind: 'dry-run',
      status: 'running',
      actor: ALICE,
      inputsHash,
      targetId: 'target-prod',
      targetName: 'prod',
      namespace: 'team-a',
      releaseName: `payments-${planId}`,
      lineCount: 0,
      runnerId: 'test',
      heartbeatAt: at,
      cancelRequested: false,
      createdAt: at,
    });
    await operationStore.finish(id, {
      status: 'succeeded',
      result: {
        type: 'dry-run',
        passed: true,
        objects: [],
        rendered: { digest, includesHooks: true, objects: [] },
      } as any,
      finishedAt: at,
      durationMs: 1,
    });
    await planStore.updateState(planId, {
      lastDryRun: {
        operationId: id,
        passed: true,
        inputsHash,
        planRevision: 1,
        at,
      },
    });
  };
  await dryRun('plan-prod', 'inputs-1', 'sha256:objects-1');

  const sent: NotificationSendOptions[] = [];
  const state = {
    now: new Date('2026-12-02T10:00:00.000Z'),
    inputs: 'inputs-1',
  };
  const approvals = ApprovalService.create({
    store: DatabaseApprovalStore.create(knex),
    plans: {
      getStored: async id => (await planStore.get(id))!,
    },
    targets: {
      getStored: async name => (await targetStore.getByName(name))!,
    },
    operations: operationStore,
    inputsHashOf: async () => state.inputs,
    ttlMinutes: 60,
    notify: ['group:default/approvers'],
    notifications: {
      send: async options => {
        sent.push(options);
      },
    },
    logger: mockServices.logger.mock(),
    clock: () => state.now,
  });

  /** The change an apply, rollback or uninstall would ask the gate for now. */
  const change = async (
    fields: Partial<ChangeRequest> & Pick<ChangeRequest, 'kind'>,
    planId = 'plan-prod',
  ): Promise<ChangeRequest> => {
    const plan = (await planStore.get(planId)) as StoredPlan;
    return {
      plan,
      target: (await targetStore.getByName(plan.targetName))!,
      caller: caller(BOB),
      ...(fields.kind === 'apply'
        ? { inputsHash: 'inputs-1', manifestHash: 'sha256:objects-1' }
        : {}),
      ...fields,
    };
  };

  return { approvals, planStore, dryRun, sent, state, change };
}

describe.each(databases.eachSupportedId())(
  'ApprovalService (%p)',
  databaseId => {
    it('refuses the requester deciding their own request whatever the policy; another user approves it and the approvers are told', async () => {
      const { approvals, sent } = await setup(await databases.init(databaseId));

      const requested = await approvals.request(
        'plan-prod',
        { kind: 'apply', comment: 'release 1.2' },
        caller(ALICE),
      );
      expect(requested).toMatchObject({
        status: 'pending',
        planRevision: 1,
        inputsHash: 'inputs-1',
        dryRunOperationId: 'dry-run-inputs-1-sha256:objects-1',
        requestedBy: ALICE,
        expiresAt: '2026-12-02T11:00:00.000Z',
      });
      // The objects' digest stays in the backend, like the render guard's.
      expect(requested).not.toHaveProperty('manifestHash');
      expect(sent).toHaveLength(1);
      expect(sent[0].recipients).toEqual({
        type: 'entity',
        entityRef: [OWNER, 'group:default/approvers'],
        excludeEntityRef: ALICE,
      });
      expect(sent[0].payload).toMatchObject({
        topic: 'deployments-approval:plan-prod',
        link: '/catalog/default/component/payments-api/dry-run?plan=plan-prod',
      });

      await expect(
        approvals.decide(
          'plan-prod',
          requested.id,
          { decision: 'approve' },
          caller(ALICE),
        ),
      ).rejects.toMatchObject({ name: 'NotAllowedError' });

      const approved = await approvals.decide(
        'plan-prod',
        requested.id,
        { decision: 'approve', comment: 'looks right' },
        caller(BOB),
      );
      expect(approved).toMatchObject({
        status: 'approved',
        decidedBy: BOB,
        decisionComment: 'looks right',
      });
      expect(sent[1].recipients).toEqual({ type: 'entity', entityRef: ALICE });

      // Decided once: a second decision is a conflict.
      await expect(
        approvals.decide(
          'plan-prod',
          requested.id,
          { decision: 'reject' },
          caller('user:default/carol'),
        ),
      ).rejects.toMatchObject({ name: 'ConflictError' });
    });

    it('admits an approved apply exactly once; abandoned puts it back, started records the operation', async () => {
      const { approvals, change } = await setup(
        await databases.init(databaseId),
      );
      await expect(
        approvals.admit(await change({ kind: 'apply' })),
      ).rejects.toThrow(/needs an approval by another user: request one/);

      const requested = await approvals.request(
        'plan-prod',
        { kind: 'apply' },
        caller(ALICE),
      );
      await expect(
        approvals.admit(await change({ kind: 'apply' })),
      ).rejects.toThrow(
        /the pending request from user:default\/alice is waiting for a decision/,
      );
      await approvals.decide(
        'plan-prod',
        requested.id,
        { decision: 'approve' },
        caller(BOB),
      );

      // Two operations racing for the one approval: exactly one gets it.
      const raced = await Promise.allSettled([
        approvals.admit(await change({ kind: 'apply' })),
        approvals.admit(await change({ kind: 'apply' })),
      ]);
      expect(raced.map(r => r.status).sort()).toEqual([
        'fulfilled',
        'rejected',
      ]);
      const admission = (
        raced.find(r => r.status === 'fulfilled') as PromiseFulfilledResult<any>
      ).value;

      // The operation did not start (release busy): the approval is back.
      await admission.abandoned();
      const again = await approvals.admit(await change({ kind: 'apply' }));
      await again.started('operation-1');
      await expect(
        approvals.admit(await change({ kind: 'apply' })),
      ).rejects.toThrow(/used by operation operation-1 and allows one change/);

      const { items, totalCount } = await approvals.list('plan-prod', {
        limit: 10,
        offset: 0,
      });
      expect(totalCount).toBe(1);
      expect(items[0]).toMatchObject({
        status: 'used',
        usedByOperationId: 'operation-1',
      });
    });

    it('voids an approval when the inputs, the dry-run or the plan change: it does not admit', async () => {
      const { approvals, change, dryRun, planStore, state } = await setup(
        await databases.init(databaseId),
      );
      const requested = await approvals.request(
        'plan-prod',
        { kind: 'apply' },
        caller(ALICE),
      );
      await approvals.decide(
        'plan-prod',
        requested.id,
        { decision: 'approve' },
        caller(BOB),
      );

      // Other inputs at apply time (a profile changed): refused, saying why.
      await expect(
        approvals.admit(
          await change({ kind: 'apply', inputsHash: 'inputs-2' }),
        ),
      ).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringMatching(
          /approval by user:default\/bob was for other inputs or another dry-run; request a new one/,
        ),
      });

      // A new dry-run of new inputs: the approval shows void.
      state.inputs = 'inputs-2';
      await dryRun('plan-prod', 'inputs-2', 'sha256:objects-2');
      let listed = await approvals.list('plan-prod', { limit: 10, offset: 0 });
      expect(listed.items[0].status).toBe('void');
      await expect(
        approvals.admit(
          await change({
            kind: 'apply',
            inputsHash: 'inputs-2',
            manifestHash: 'sha256:objects-2',
          }),
        ),
      ).rejects.toMatchObject({ name: 'ConflictError' });

      // A pending request of a plan edited since is void too and cannot be decided.
      const pending = await approvals.request(
        'plan-prod',
        { kind: 'uninstall' },
        caller(ALICE),
      );
      const plan = (await planStore.get('plan-prod'))!;
      await planStore.replace({ ...plan, revision: 2, namespace: 'team-b' }, 1);
      listed = await approvals.list('plan-prod', { limit: 10, offset: 0 });
      expect(listed.items.find(a => a.id === pending.id)?.status).toBe('void');
      await expect(
        approvals.decide(
          'plan-prod',
          pending.id,
          { decision: 'approve' },
          caller(BOB),
        ),
      ).rejects.toThrow(/void/);
    });

    it('refuses an expired approval and an expired request', async () => {
      const { approvals, change, state } = await setup(
        await databases.init(databaseId),
      );
      const approvedOne = await approvals.request(
        'plan-prod',
        { kind: 'rollback', rollbackRevision: 3 },
        caller(ALICE),
      );
      await approvals.decide(
        'plan-prod',
        approvedOne.id,
        { decision: 'approve' },
        caller(BOB),
      );
      // Bound to the revision asked for.
      await expect(
        approvals.admit(
          await change({ kind: 'rollback', rollbackRevision: 2 }),
        ),
      ).rejects.toThrow(/was for a rollback to revision 3/);

      state.now = new Date('2026-12-02T11:00:00.001Z');
      await expect(
        approvals.admit(
          await change({ kind: 'rollback', rollbackRevision: 3 }),
        ),
      ).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringMatching(/expired at 2026-12-02T11:00:00.000Z/),
      });
      const listed = await approvals.list('plan-prod', {
        limit: 10,
        offset: 0,
      });
      expect(listed.items[0].status).toBe('expired');

      const late = await approvals.request(
        'plan-prod',
        { kind: 'uninstall' },
        caller(ALICE),
      );
      state.now = new Date('2026-12-02T12:30:00.000Z');
      await expect(
        approvals.decide(
          'plan-prod',
          late.id,
          { decision: 'approve' },
          caller(BOB),
        ),
      ).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringMatching(/expired/),
      });
    });

    it('admits with nothing on a target without requireApproval, where requests are refused', async () => {
      const { approvals, change } = await setup(
        await databases.init(databaseId),
      );
      const admission = await approvals.admit(
        await change({ kind: 'uninstall' }, 'plan-dev'),
      );
      await admission.started('operation-x');
      await admission.abandoned();
      await expect(
        approvals.request('plan-dev', { kind: 'uninstall' }, caller(ALICE)),
      ).rejects.toMatchObject({
        name: 'ConflictError',
        message: 'Target "dev" does not require approval',
      });
      expect(
        (await approvals.list('plan-dev', { limit: 10, offset: 0 })).totalCount,
      ).toBe(0);
    });

    it('binds an apply request to a passed dry-run of the current inputs; a new request voids the older pending one', async () => {
      const { approvals, state } = await setup(
        await databases.init(databaseId),
      );
      state.inputs = 'inputs-changed';
      await expect(
        approvals.request('plan-prod', { kind: 'apply' }, caller(ALICE)),
      ).rejects.toThrow(/passed dry-run of the current inputs/);
      state.inputs = 'inputs-1';

      const first = await approvals.request(
        'plan-prod',
        { kind: 'apply' },
        caller(ALICE),
      );
      state.now = new Date('2026-12-02T10:01:00.000Z');
      const second = await approvals.request(
        'plan-prod',
        { kind: 'apply' },
        caller(ALICE),
      );
      const listed = await approvals.list('plan-prod', {
        limit: 10,
        offset: 0,
      });
      expect(listed.items.map(a => [a.id, a.status])).toEqual([
        [second.id, 'pending'],
        [first.id, 'void'],
      ]);
      await expect(
        approvals.decide(
          'plan-prod',
          first.id,
          { decision: 'approve' },
          caller(BOB),
        ),
      ).rejects.toMatchObject({ name: 'ConflictError' });
      await expect(
        approvals.request(
          'plan-prod',
          { kind: 'apply', rollbackRevision: 2 },
          caller(ALICE),
        ),
      ).rejects.toMatchObject({ name: 'InputError' });
    });
  },
);
