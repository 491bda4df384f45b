/*
 * Retention on real PostgreSQL and SQLite: old audit entries and the lines
 * of operations that finished long ago go, in statements of at most
 * batchSize rows and at most maxBatchesPerRun statements a pass; new rows,
 * running operations' lines, operations, release records, the digests
 * rollback checks and the dry-run a plan relies on stay.
 */
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { mockServices } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import {
  createPlanPrerequisites,
  storedPlan,
} from '../__testUtils__/planFixtures';
import { createTestDatabases } from '../__testUtils__/testDatabases';
import { DatabaseOperationStore } from '../operations/DatabaseOperationStore';
import { DatabasePlanStore } from '../plans/DatabasePlanStore';
import { RetentionTask } from './RetentionTask';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const NOW = new Date('2026-12-02T12:00:00.000Z');
const daysAgo = (days: number) =>
  new Date(NOW.getTime() - days * 24 * 60 * 60 * 1000).toISOString();

const AUDIT = 'deployments_audit_events';
const OPERATIONS = 'deployments_operations';
const LINES = 'deployments_operation_lines';
const MIGRATION = '20261202150000_retention.js';

function dryRunResult(size: number) {
  return {
    type: 'dry-run',
    passed: true,
    inputsHash: 'sha256:inputs',
    chartDigest: 'sha256:chart',
    violations: [],
    warnings: [],
    objects: [
      {
        key: 'v1 ConfigMap team-a/big',
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'big',
        namespace: 'team-a',
        source: 'templates/cm.yaml',
        change: 'changed',
        diff: 'x'.repeat(size),
        manifest: 'y'.repeat(size),
      },
    ],
    rendered: {
      digest: 'sha256:dry-run-set',
      includesHooks: true,
      objects: [{ identity: 'v1 ConfigMap team-a/big', hook: false }],
    },
  };
}

async function seed(knex: Knex) {
  await createPlanPrerequisites(knex);
  await DatabasePlanStore.create(knex).insert(
    storedPlan({
      id: 'plan',
      entityRef: 'component:default/a',
      releaseName: 'a',
      lastDryRun: {
        operationId: 'dry-in-use',
        passed: true,
        inputsHash: 'sha256:inputs',
        planRevision: 1,
        at: daysAgo(200),
      },
    }),
  );

  for (let i = 0; i < 7; i++) {
    await knex(AUDIT).insert({
      occurred_at: daysAgo(400 + i),
      actor: 'user:default/old',
      event_id: 'target-create',
      outcome: 'succeeded',
    });
  }
  for (const days of [10, 364]) {
    await knex(AUDIT).insert({
      occurred_at: daysAgo(days),
      actor: 'user:default/new',
      event_id: 'target-create',
      outcome: 'succeeded',
    });
  }

  const operation = (
    id: string,
    fields: {
      kind?: string;
      status: string;
      createdDaysAgo: number;
      finishedDaysAgo?: number;
      lines: number;
      result?: unknown;
    },
  ) => ({
    row: {
      id,
      plan_id: 'plan',
      plan_revision: 1,
      kind: fields.kind ?? 'apply',
      status: fields.status,
      actor: 'user:default/test',
      target_id: 'target-dev',
      target_name: 'dev',
      namespace: 'team-a',
      release_name: 'a',
      line_count: fields.lines,
      result: fields.result ? JSON.stringify(fields.result) : null,
      runner_id: 'runner',
      heartbeat_at: daysAgo(fields.finishedDaysAgo ?? 0),
      created_at: daysAgo(fields.createdDaysAgo),
      finished_at:
        fields.finishedDaysAgo === undefined
          ? null
          : daysAgo(fields.finishedDaysAgo),
    },
    lines: fields.lines,
  });
  const operations = [
    operation('old-apply', {
      status: 'succeeded',
      createdDaysAgo: 101,
      finishedDaysAgo: 100,
      lines: 7,
      result: {
        type: 'apply',
        rolledBack: false,
        helmRevision: 3,
        rendered: {
          digest: 'sha256:applied-set',
          includesHooks: true,
          objects: [],
        },
      },
    }),
    operation('old-interrupted', {
      status: 'interrupted',
      createdDaysAgo: 120,
      finishedDaysAgo: 120,
      lines: 2,
    }),
    // Started long ago and still going (a stuck or very long operation).
    operation('old-running', {
      status: 'running',
      createdDaysAgo: 100,
      lines: 5,
    }),
    operation('new-apply', {
      status: 'failed',
      createdDaysAgo: 10,
      finishedDaysAgo: 10,
      lines: 4,
    }),
    operation('dry-big', {
      kind: 'dry-run',
      status: 'succeeded',
      createdDaysAgo: 300,
      finishedDaysAgo: 300,
      lines: 0,
      result: dryRunResult(70_000),
    }),
    operation('dry-in-use', {
      kind: 'dry-run',
      status: 'succeeded',
      createdDaysAgo: 200,
      finishedDaysAgo: 200,
      lines: 0,
      result: dryRunResult(70_000),
    }),
    operation('dry-small', {
      kind: 'dry-run',
      status: 'succeeded',
      createdDaysAgo: 250,
      finishedDaysAgo: 250,
      lines: 0,
      result: dryRunResult(10),
    }),
    operation('dry-new', {
      kind: 'dry-run',
      status: 'succeeded',
      createdDaysAgo: 5,
      finishedDaysAgo: 5,
      lines: 0,
      result: dryRunResult(70_000),
    }),
  ];
  for (const { row, lines } of operations) {
    await knex(OPERATIONS).insert(row);
    for (let seq = 1; seq <= lines; seq++) {
      await knex(LINES).insert({
        operation_id: row.id,
        seq,
        at: row.created_at,
        text: `line ${seq}`,
      });
    }
  }
  await knex('deployments_releases').insert({
    id: 'release-1',
    plan_id: 'plan',
    plan_revision: 1,
    operation_id: 'old-apply',
    target_id: 'target-dev',
    namespace: 'team-a',
    release_name: 'a',
    helm_revision: 3,
    actor: 'user:default/test',
    outcome: 'succeeded',
    created_at: daysAgo(100),
  });
}

async function linesByOperation(knex: Knex) {
  const rows = (await knex(LINES)
    .select('operation_id')
    .count({ count: '*' })
    .groupBy('operation_id')
    .orderBy('operation_id')) as Array<{
    operation_id: string;
    count: string | number;
  }>;
  return Object.fromEntries(
    rows.map(row => [row.operation_id, Number(row.count)]),
  );
}

/** The DELETE statements knex sends, with their bindings. */
function captureDeletes(knex: Knex) {
  const deletes: Array<{ sql: string; bindings: unknown[] }> = [];
  const listener = (query: { sql: string; bindings?: unknown[] }) => {
    if (/^delete/i.test(query.sql)) {
      deletes.push({ sql: query.sql, bindings: query.bindings ?? [] });
    }
  };
  knex.on('query', listener);
  return {
    deletes,
    stop: () => knex.removeListener('query', listener),
  };
}

describe.each(databases.eachSupportedId())('RetentionTask (%p)', databaseId => {
  it('removes old audit entries and finished operations’ old lines in bounded batches, keeping what rollback and apply need', async () => {
    const knex = await databases.init(databaseId);
    await seed(knex);
    const audit = { recordOutcome: jest.fn(async () => {}) };
    const task = RetentionTask.create({
      db: knex,
      logger: mockServices.logger.mock(),
      audit,
      batchSize: 3,
      now: () => NOW,
    });

    const capture = captureDeletes(knex);
    const report = await task.run();
    capture.stop();

    expect(report).toEqual({
      auditEntries: 7,
      operationLines: 9,
      compactedOutputs: 1,
      complete: true,
    });
    // Every delete is bounded by the batch size: 7 audit rows take 3 + 3 + 1.
    const auditDeletes = capture.deletes.filter(d => d.sql.includes(AUDIT));
    expect(auditDeletes).toHaveLength(3);
    for (const statement of capture.deletes) {
      expect(statement.sql).toMatch(/limit/i);
      expect(statement.bindings).toContain(3);
    }

    const left = await knex(AUDIT).select('actor', 'event_id');
    expect(left.filter(e => e.actor === 'user:default/old')).toEqual([]);
    expect(left.filter(e => e.actor === 'user:default/new')).toHaveLength(2);
    expect(audit.recordOutcome).toHaveBeenCalledWith(
      expect.objectContaining({
        eventId: 'audit-retention',
        meta: expect.objectContaining({ deletedEntries: 7 }),
      }),
    );

    // The running operation's and the recent one's lines stay.
    expect(await linesByOperation(knex)).toEqual({
      'new-apply': 4,
      'old-running': 5,
    });
    // Operations and release records are never deleted.
    expect(await knex(OPERATIONS)).toHaveLength(8);
    expect(await knex('deployments_releases')).toHaveLength(1);
    const operations = DatabaseOperationStore.create(knex);
    expect(await operations.appliedDigests('plan')).toEqual(
      new Set(['sha256:applied-set']),
    );

    // The old large dry-run loses its diffs and manifests but keeps what was
    // checked; the one the plan relies on, the small and the new one stay whole.
    const big = await operations.get('dry-big');
    expect(big?.result).toMatchObject({
      passed: true,
      rendered: { digest: 'sha256:dry-run-set' },
      objects: [{ key: 'v1 ConfigMap team-a/big', change: 'changed' }],
    });
    expect(JSON.stringify(big?.result).length).toBeLessThan(2_000);
    for (const id of ['dry-in-use', 'dry-new']) {
      const kept = await operations.get(id);
      expect(JSON.stringify(kept?.result).length).toBeGreaterThan(140_000);
    }

    // A second pass has nothing left to do.
    expect(await task.run()).toEqual({
      auditEntries: 0,
      operationLines: 0,
      compactedOutputs: 0,
      complete: true,
    });
  });

  it('stops a pass at maxBatchesPerRun statements and goes on in the next', async () => {
    const knex = await databases.init(databaseId);
    await seed(knex);
    const task = RetentionTask.create({
      db: knex,
      logger: mockServices.logger.mock(),
      batchSize: 2,
      maxBatchesPerRun: 3,
      now: () => NOW,
    });

    const capture = captureDeletes(knex);
    const first = await task.run();
    expect(capture.deletes).toHaveLength(3);
    expect(first).toEqual({
      auditEntries: 6,
      operationLines: 0,
      compactedOutputs: 0,
      complete: false,
    });
    expect(await knex(AUDIT)).toHaveLength(3);

    const second = await task.run();
    capture.stop();
    expect(second.auditEntries).toBe(1);
    // One audit delete (the last row), then lines two at a time: the
    // interrupted operation's 2 and the empty delete that finishes it.
    expect(second.operationLines).toBe(2);
    expect(second.complete).toBe(false);
    expect(capture.deletes).toHaveLength(6);

    let report = second;
    for (let pass = 0; pass < 5 && !report.complete; pass++) {
      report = await task.run();
    }
    expect(report.complete).toBe(true);
    expect(await linesByOperation(knex)).toEqual({
      'new-apply': 4,
      'old-running': 5,
    });
  });

  it('has a migration that undoes', async () => {
    const knex = await databases.init(databaseId);
    const directory = resolvePackagePath(
      '@kubedeploy/plugin-deployments-backend',
      'migrations',
    );
    await knex.migrate.latest({ directory });
    expect(await knex.schema.hasColumn(OPERATIONS, 'lines_pruned_at')).toBe(
      true,
    );
    await knex.migrate.down({ directory, name: MIGRATION });
    expect(await knex.schema.hasColumn(OPERATIONS, 'lines_pruned_at')).toBe(
      false,
    );
    expect(await knex.schema.hasColumn(OPERATIONS, 'output_compacted_at')).toBe(
      false,
    );
    await knex.migrate.up({ directory, name: MIGRATION });
    expect(await knex.schema.hasColumn(OPERATIONS, 'output_compacted_at')).toBe(
      true,
    );
  });

  it('keeps everything when the retention days are 0', async () => {
    const knex = await databases.init(databaseId);
    await seed(knex);
    const task = RetentionTask.create({
      db: knex,
      logger: mockServices.logger.mock(),
      auditDays: 0,
      operationLinesDays: 0,
      now: () => NOW,
    });

    expect(await task.run()).toEqual({
      auditEntries: 0,
      operationLines: 0,
      compactedOutputs: 0,
      complete: true,
    });
    expect(await knex(AUDIT)).toHaveLength(9);
    expect(await knex(LINES)).toHaveLength(18);
  });
});
