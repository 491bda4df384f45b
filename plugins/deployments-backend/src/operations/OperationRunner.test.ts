/*
 * The runner redacts an operation's secret strings from everything it
 * stores (result, error, progress lines) on real PostgreSQL and SQLite, so
 * every reader (API, audit, onFinished) sees only the redacted record.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { DryRunResult } from '@kubedeploy/plugin-deployments-common';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import {
  DatabaseOperationStore,
  StoredOperation,
} from './DatabaseOperationStore';
import { OperationOutcome, OperationRunner } from './OperationRunner';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const SECRET = 'runner-secret-4b1d';
const FORMS = [
  SECRET,
  Buffer.from(SECRET).toString('base64'),
  Buffer.from(SECRET).toString('hex'),
];

function leaks(value: unknown): string[] {
  const text = JSON.stringify(value) ?? '';
  // Names the form, never the secret, so a failure does not print it.
  return ['plain', 'base64', 'hex'].filter((_, i) => text.includes(FORMS[i]));
}

describe.each(databases.eachSupportedId())(
  'OperationRunner redaction (%p)',
  databaseId => {
    async function runOnce(
      execute: () => Promise<OperationOutcome>,
      lines: string[],
    ) {
      const knex = await databases.init(databaseId);
      await createPlanPrerequisites(knex);
      await DatabasePlanStore.create(knex).insert(
        storedPlan({
          id: 'plan',
          entityRef: 'component:default/a',
          releaseName: 'a',
        }),
      );
      const store = DatabaseOperationStore.create(knex);
      const runner = OperationRunner.create({
        store,
        logger: mockServices.logger.mock(),
      });
      let finished: StoredOperation | undefined;
      const started = await runner.start({
        planId: 'plan',
        planRevision: 1,
        kind: 'dry-run',
        actor: 'user:default/test',
        targetId: 'target-dev',
        targetName: 'dev',
        namespace: 'team-a',
        releaseName: 'a',
        secretStrings: [SECRET],
        execute: async context => {
          for (const line of lines) context.line(line);
          return execute();
        },
        onFinished: async operation => {
          finished = operation;
        },
      });
      await runner.settled(started.id);
      const stored = await store.get(started.id);
      const storedLines = await store.linesAfter(started.id, 0, 100);
      const rows = [
        ...(await knex('deployments_operations').select()),
        ...(await knex('deployments_operation_lines').select()),
      ];
      return { stored, storedLines, finished, rows };
    }

    it('redacts the result, the error and every line before storing them', async () => {
      const b64 = Buffer.from(SECRET).toString('base64');
      const result: DryRunResult = {
        type: 'dry-run',
        passed: false,
        inputsHash: 'h',
        chartDigest: 'sha256:0',
        violations: [{ object: `v1/ConfigMap/${SECRET}`, reason: 'r' }],
        warnings: [],
        objects: [
          {
            key: 'v1/ConfigMap/c',
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'c',
            namespace: 'team-a',
            source: 'templates/c.yaml',
            change: 'added',
            manifest: `data:\n  password: ${SECRET}\n  encoded: ${b64}\n`,
          },
        ],
        notes: `password ${Buffer.from(SECRET).toString('hex')}`,
      };
      const { stored, storedLines, finished, rows } = await runOnce(
        async () => ({ status: 'failed', result, error: `refused ${SECRET}` }),
        [`rendering with ${SECRET}`, `${'x'.repeat(3995)}${SECRET}`],
      );
      expect(stored?.status).toBe('failed');
      expect(leaks(stored)).toEqual([]);
      expect(leaks(storedLines)).toEqual([]);
      expect(leaks(finished)).toEqual([]);
      expect(leaks(rows)).toEqual([]);
      expect(stored?.error).toBe('refused [redacted]');
      const dryRun = stored?.result as DryRunResult;
      // Values use a marker YAML reads as a plain string.
      expect(dryRun.objects[0].manifest).toBe(
        'data:\n  password: (redacted)\n  encoded: (redacted)\n',
      );
      expect(dryRun.notes).toBe('password (redacted)');
      expect(dryRun.violations[0].object).toBe('v1/ConfigMap/(redacted)');
      expect(storedLines[0].text).toBe('rendering with [redacted]');
      // Cut to 4000 characters after redaction: the secret that started at
      // 3995 leaves no prefix behind, only part of the marker.
      expect(storedLines[1].text.length).toBe(4000);
      expect(storedLines[1].text.endsWith('x[reda')).toBe(true);
    });

    it('redacts the message of a thrown error', async () => {
      const { stored, rows } = await runOnce(async () => {
        throw new Error(`helm failed near ${SECRET}`);
      }, []);
      expect(stored?.status).toBe('failed');
      expect(stored?.error).toBe('helm failed near [redacted]');
      expect(leaks(rows)).toEqual([]);
    });
  },
);
