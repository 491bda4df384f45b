/*
 * The advisory store on real PostgreSQL and SQLite: what a check opens,
 * sees again and resolves (and why), that subjects a check could not read
 * keep their advisories, dismissals that lapse, and the migration's down.
 */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabaseId } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import {
  AdvisoryFinding,
  CheckResult,
  DatabaseAdvisoryStore,
} from './DatabaseAdvisoryStore';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const directory = resolvePackagePath(
  '@kubedeploy/plugin-deployments-backend',
  'migrations',
);
const APP = 'Deployment/web/app';

function finding(
  running: string,
  kind: AdvisoryFinding['kind'],
  available?: string,
): AdvisoryFinding {
  return {
    subjectKind: 'image',
    subject: APP,
    workload: 'Deployment/web',
    container: 'app',
    running: `registry.test/app:${running}`,
    source: 'registry.test/app',
    kind,
    available,
  };
}

function check(
  checkedAt: string,
  running: string | undefined,
  findings: AdvisoryFinding[],
  unchecked: string[] = [],
): CheckResult {
  return {
    planId: 'plan-1',
    checkedAt,
    running: { images: [] },
    problems: unchecked.map(source => ({ source, message: 'down' })),
    findings,
    runningSubjects: new Map(
      running ? [[APP, `registry.test/app:${running}`]] : [],
    ),
    uncheckedSubjects: new Set(unchecked),
  };
}

describe.each(databases.eachSupportedId())(
  'DatabaseAdvisoryStore (%s)',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let store: DatabaseAdvisoryStore;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory });
      store = DatabaseAdvisoryStore.create(knex);
    });

    it('opens, sees again, supersedes and resolves, keeping what a check could not read', async () => {
      const opened = await store.recordCheck(
        check('2026-12-03T10:00:00.000Z', '1.2.3', [
          finding('1.2.3', 'patch', '1.2.4'),
          finding('1.2.3', 'minor', '1.3.0'),
        ]),
      );
      expect(opened.map(a => [a.kind, a.available, a.state])).toEqual([
        ['patch', '1.2.4', 'open'],
        ['minor', '1.3.0', 'open'],
      ]);

      // The same findings again: nothing new, last seen moves.
      expect(
        await store.recordCheck(
          check('2026-12-03T11:00:00.000Z', '1.2.3', [
            finding('1.2.3', 'patch', '1.2.4'),
            finding('1.2.3', 'minor', '1.3.0'),
          ]),
        ),
      ).toEqual([]);
      const [patch] = await store.listForPlans(['plan-1']);
      expect(patch).toMatchObject({
        firstSeenAt: '2026-12-03T10:00:00.000Z',
        lastSeenAt: '2026-12-03T11:00:00.000Z',
      });

      // 1.2.5 appears: the 1.2.4 advisory is superseded, a new one opens.
      const newer = await store.recordCheck(
        check('2026-12-03T12:00:00.000Z', '1.2.3', [
          finding('1.2.3', 'patch', '1.2.5'),
          finding('1.2.3', 'minor', '1.3.0'),
        ]),
      );
      expect(newer.map(a => a.available)).toEqual(['1.2.5']);

      // The registry is down: its subject keeps its advisories.
      expect(
        await store.recordCheck(
          check('2026-12-03T13:00:00.000Z', '1.2.3', [], [APP]),
        ),
      ).toEqual([]);
      expect(
        (await store.listForPlans(['plan-1'])).map(a => a.available).sort(),
      ).toEqual(['1.2.5', '1.3.0']);

      // A later apply runs 1.3.0: what ran before is resolved.
      await store.recordCheck(check('2026-12-03T14:00:00.000Z', '1.3.0', []));
      const all = await store.listForPlans(['plan-1'], {
        includeResolved: true,
      });
      expect(
        all
          .map(a => [a.available, a.state, a.resolvedReason])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      ).toEqual([
        ['1.2.4', 'resolved', 'superseded by 1.2.5'],
        ['1.2.5', 'resolved', 'now runs registry.test/app:1.3.0'],
        ['1.3.0', 'resolved', 'now runs registry.test/app:1.3.0'],
      ]);
      expect(await store.listForPlans(['plan-1'])).toEqual([]);
      const [stored] = await store.getChecks(['plan-1']);
      expect(stored.checkedAt).toBe('2026-12-03T14:00:00.000Z');
    });

    it('dismisses until a time, after which the advisory is open again; a resolved one cannot be dismissed', async () => {
      const [advisory] = await store.recordCheck({
        ...check('2026-12-03T10:00:00.000Z', '2.0.0', [
          finding('2.0.0', 'patch', '2.0.1'),
        ]),
        planId: 'plan-2',
      });
      const past = new Date(Date.now() - 60_000).toISOString();
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const dismissal = { by: 'user:default/alice', at: past, reason: 'later' };
      expect(
        await store.dismiss(advisory.id, { ...dismissal, until: future }),
      ).toBe(true);
      expect((await store.get(advisory.id))?.state).toBe('dismissed');
      await store.dismiss(advisory.id, { ...dismissal, until: past });
      expect((await store.get(advisory.id))?.state).toBe('open');

      await store.recordCheck({
        ...check('2026-12-03T11:00:00.000Z', '2.0.1', []),
        planId: 'plan-2',
      });
      expect(await store.dismiss(advisory.id, dismissal)).toBe(false);
    });

    it('removes its tables on the way down', async () => {
      await knex.migrate.down({
        directory,
        name: '20261203100000_advisories.js',
      });
      expect(await knex.schema.hasTable('deployments_advisories')).toBe(false);
      expect(await knex.schema.hasTable('deployments_advisory_checks')).toBe(
        false,
      );
      await knex.migrate.latest({ directory });
      expect(await knex.schema.hasTable('deployments_advisories')).toBe(true);
    });
  },
);
