/*
 * Leases of running operations across replicas, on PostgreSQL and SQLite:
 * heartbeats and the sweep use the database's clock (a replica whose own
 * clock is off neither loses a live operation nor keeps a dead one), and a
 * runner that lost its lease stops and cannot record an outcome over the
 * interruption.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { DatabaseOperationStore } from './DatabaseOperationStore';
import { OperationRunner } from './OperationRunner';

jest.setTimeout(120_000);

const databases = createTestDatabases();

function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  })();
}

describe.each(databases.eachSupportedId())(
  'operation leases (%p)',
  databaseId => {
    let knex: Knex;
    let store: DatabaseOperationStore;

    beforeEach(async () => {
      knex = await databases.init(databaseId);
      await createPlanPrerequisites(knex);
      await DatabasePlanStore.create(knex).insert(
        storedPlan({
          id: 'plan',
          entityRef: 'component:default/a',
          releaseName: 'a',
        }),
      );
      store = DatabaseOperationStore.create(knex);
    });

    afterEach(() => jest.restoreAllMocks());

    const runnerOf = (
      options: { heartbeatMs?: number; staleAfterMs?: number } = {},
    ) =>
      OperationRunner.create({
        store,
        logger: mockServices.logger.mock(),
        heartbeatMs: options.heartbeatMs ?? 100,
        staleAfterMs: options.staleAfterMs ?? 1_000,
      });

    /** Starts an operation that runs until it is aborted. */
    async function startLong(runner: OperationRunner) {
      let aborted = false;
      const started = await runner.start({
        planId: 'plan',
        planRevision: 1,
        kind: 'apply',
        actor: 'user:default/test',
        targetId: 'target-dev',
        targetName: 'dev',
        namespace: 'team-a',
        releaseName: 'a',
        execute: context =>
          new Promise((_, reject) =>
            context.signal.addEventListener('abort', () => {
              aborted = true;
              reject(new Error('helm was stopped'));
            }),
          ),
      });
      return { started, aborted: () => aborted };
    }

    it("stamps heartbeats with the database's clock, so a replica whose clock is an hour behind keeps its operation", async () => {
      const realNow = Date.now;
      // This replica's clock is an hour behind.
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_600_000);
      const behind = runnerOf();
      const { started, aborted } = await startLong(behind);
      await new Promise(resolve => setTimeout(resolve, 300));
      const row = await knex('deployments_operations')
        .where({ id: started.id })
        .first();
      const dbNow = (await store.now()).getTime();
      // Within a few seconds of the database's time, not an hour off.
      expect(
        Math.abs(new Date(row.heartbeat_at).getTime() - dbNow),
      ).toBeLessThan(5_000);
      jest.restoreAllMocks();

      // Another replica sweeps: the live operation stays.
      expect(await runnerOf().sweep()).toEqual([]);
      expect((await store.get(started.id))?.status).toBe('running');

      await behind.cancel(started.id);
      await behind.settled(started.id);
      expect(aborted()).toBe(true);
    });

    it('fences a runner whose lease was swept: it stops helm and records nothing over the interruption', async () => {
      const slow = runnerOf({ heartbeatMs: 200, staleAfterMs: 60_000 });
      const { started, aborted } = await startLong(slow);
      // The replica looked dead (e.g. paused): its heartbeat is old, and
      // another replica sweeps the operation and frees the release.
      await knex('deployments_operations')
        .where({ id: started.id })
        .update({ heartbeat_at: '2000-01-01T00:00:00.000Z' });
      const swept = await runnerOf({ staleAfterMs: 1_000 }).sweep();
      expect(swept.map(o => o.id)).toEqual([started.id]);

      // At its next heartbeat the runner finds the lease gone and stops.
      await waitFor(async () => aborted());
      await slow.settled(started.id);
      const stored = await store.get(started.id);
      expect(stored).toMatchObject({
        status: 'interrupted',
        error:
          'The backend process running this operation stopped before it finished',
      });
      // The release is free for another operation.
      const other = runnerOf();
      const next = await startLong(other);
      expect(next.started.status).toBe('running');
      await other.stop();
    });

    it('stops on its own when it cannot renew its lease for longer than the sweep waits', async () => {
      const runner = runnerOf({ heartbeatMs: 100, staleAfterMs: 600 });
      jest
        .spyOn(store, 'heartbeat')
        .mockRejectedValue(new Error('connection terminated'));
      const { started, aborted } = await startLong(runner);
      const before = Date.now();
      await waitFor(async () => aborted());
      // Before the sweep could take the release (600 ms), give or take a tick.
      expect(Date.now() - before).toBeLessThan(1_500);
      jest.restoreAllMocks();
      await runner.settled(started.id);
      expect((await store.get(started.id))?.error).toMatch(
        /lost the operation's lease/,
      );
    });
  },
);
