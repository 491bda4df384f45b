import { ConflictError } from '@backstage/errors';
import {
  Operation,
  OperationKind,
  OperationLine,
  OperationStatus,
} from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';
import { databaseNow } from '../lib/databaseClock';
import { applyPlanFilter, PlanFilterTree } from '../plans/DatabasePlanStore';

/** An operation row as the service sees it. */
export interface StoredOperation {
  id: string;
  planId: string;
  planRevision: number;
  kind: OperationKind;
  status: OperationStatus;
  actor: string;
  inputsHash?: string;
  targetId: string;
  targetName: string;
  namespace: string;
  releaseName: string;
  lineCount: number;
  error?: string;
  result?: Operation['result'];
  runnerId: string;
  heartbeatAt: string;
  cancelRequested: boolean;
  createdAt: string;
  finishedAt?: string;
  durationMs?: number;
}

/** The release an operation works on; one operation per release at a time. */
export interface ReleaseKey {
  targetId: string;
  namespace: string;
  releaseName: string;
}

/** What an apply left behind: which plan revision and actor made which Helm revision. */
export interface ReleaseRecord {
  id: string;
  planId: string;
  planRevision: number;
  operationId: string;
  targetId: string;
  namespace: string;
  releaseName: string;
  helmRevision?: number;
  chartDigest?: string;
  valuesHash?: string;
  inputsHash?: string;
  actor: string;
  outcome: string;
  createdAt: string;
}

/** Where a page of operations ends, in list order (newest first). */
export interface OperationListKey {
  createdAt: string;
  id: string;
}

const OPERATIONS = 'deployments_operations';
const PLANS = 'deployments_plans';
const LINES = 'deployments_operation_lines';
const LOCKS = 'deployments_release_locks';
const RELEASES = 'deployments_releases';

function fromRow(row: Record<string, any>): StoredOperation {
  return {
    id: row.id,
    planId: row.plan_id,
    planRevision: Number(row.plan_revision),
    kind: row.kind,
    status: row.status,
    actor: row.actor,
    inputsHash: row.inputs_hash ?? undefined,
    targetId: row.target_id,
    targetName: row.target_name,
    namespace: row.namespace,
    releaseName: row.release_name,
    lineCount: Number(row.line_count),
    error: row.error ?? undefined,
    result: row.result ? JSON.parse(row.result) : undefined,
    runnerId: row.runner_id,
    heartbeatAt: row.heartbeat_at,
    cancelRequested: Boolean(row.cancel_requested),
    createdAt: row.created_at,
    finishedAt: row.finished_at ?? undefined,
    durationMs:
      row.duration_ms === null || row.duration_ms === undefined
        ? undefined
        : Number(row.duration_ms),
  };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e.code === '23505' ||
    /UNIQUE constraint failed|PRIMARY KEY/.test(e.message ?? '')
  );
}

/** Operations, their progress lines, release locks and release records. */
export class DatabaseOperationStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseOperationStore {
    return new DatabaseOperationStore(db);
  }

  /**
   * Takes the release's lock and records the operation, atomically. A lock
   * held by an operation that is no longer running (its process died and it
   * was swept, or it finished without releasing) is taken over.
   */
  async insertWithLock(operation: StoredOperation): Promise<void> {
    // The first lease is stamped by the database's clock like every renewal.
    operation.heartbeatAt = (await databaseNow(this.db)).toISOString();
    const key = {
      target_id: operation.targetId,
      namespace: operation.namespace,
      release_name: operation.releaseName,
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.db.transaction(async tx => {
          await tx(LOCKS).insert({
            ...key,
            operation_id: operation.id,
            acquired_at: operation.createdAt,
          });
          await tx(OPERATIONS).insert(toRow(operation));
        });
        return;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      const lock = await this.db(LOCKS).where(key).first();
      if (!lock) continue;
      const holder = await this.db(OPERATIONS)
        .where({ id: lock.operation_id })
        .first();
      if (holder && holder.status === 'running') {
        throw new ConflictError(
          `Operation ${holder.id} (${holder.kind} by ${holder.actor}, started ${holder.created_at}) is running on release "${operation.releaseName}"; wait for it or cancel it`,
        );
      }
      await this.db(LOCKS)
        .where({ ...key, operation_id: lock.operation_id })
        .delete();
    }
    throw new ConflictError(
      `Another operation is starting on release "${operation.releaseName}"; try again`,
    );
  }

  async get(id: string): Promise<StoredOperation | undefined> {
    const row = await this.db(OPERATIONS).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  /**
   * The digests of what the plan's successful applies sent (as the render
   * guard checked it): a release revision whose objects match none of them
   * was not made through the portal.
   */
  async appliedDigests(planId: string): Promise<Set<string>> {
    const rows = await this.db(OPERATIONS)
      .where({ plan_id: planId, kind: 'apply', status: 'succeeded' })
      .select('id');
    const digests = new Set<string>();
    for (const { id } of rows) {
      const operation = await this.get(id);
      const rendered = (
        operation?.result as { rendered?: { digest?: unknown } }
      )?.rendered;
      if (typeof rendered?.digest === 'string') {
        digests.add(rendered.digest);
      }
    }
    return digests;
  }

  async listForPlan(
    planId: string,
    options: { limit: number; offset: number },
  ): Promise<{ items: StoredOperation[]; totalCount: number }> {
    const query = this.db(OPERATIONS).where({ plan_id: planId });
    const [{ count }] = await query.clone().count({ count: '*' });
    const rows = await query
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(fromRow), totalCount: Number(count) };
  }

  /**
   * Operations across plans, newest first, with their plan's entity. With a
   * permission filter only operations of plans it allows are returned (an
   * operation whose plan was deleted then matches nothing). `after` is the
   * last row of the previous page.
   */
  async list(options: {
    limit: number;
    after?: OperationListKey;
    status?: OperationStatus;
    kind?: OperationKind;
    targetName?: string;
    planFilter?: PlanFilterTree;
  }): Promise<Array<StoredOperation & { entityRef?: string }>> {
    const query = this.db(`${OPERATIONS} as o`)
      .leftJoin(`${PLANS} as p`, 'p.id', 'o.plan_id')
      .select('o.*', 'p.entity_ref as plan_entity_ref');
    if (options.status) query.where('o.status', options.status);
    if (options.kind) query.where('o.kind', options.kind);
    if (options.targetName) query.where('o.target_name', options.targetName);
    if (options.planFilter) {
      const filter = options.planFilter;
      query.andWhere(q => applyPlanFilter(q, filter, 'p'));
    }
    if (options.after) {
      // Row values compare in order; PostgreSQL and SQLite both support them.
      query.whereRaw('(o.created_at, o.id) < (?, ?)', [
        options.after.createdAt,
        options.after.id,
      ]);
    }
    const rows = await query
      .orderBy([
        { column: 'o.created_at', order: 'desc' },
        { column: 'o.id', order: 'desc' },
      ])
      .limit(options.limit);
    return rows.map(row => ({
      ...fromRow(row),
      entityRef: row.plan_entity_ref ?? undefined,
    }));
  }

  /** The lock holders of these releases, by plan id. */
  async runningFor(
    plans: Array<{ id: string } & ReleaseKey>,
  ): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    if (plans.length === 0) return result;
    const rows = await this.db(LOCKS)
      .join(OPERATIONS, `${OPERATIONS}.id`, `${LOCKS}.operation_id`)
      .where(`${OPERATIONS}.status`, 'running')
      .whereIn(
        `${OPERATIONS}.plan_id`,
        plans.map(p => p.id),
      )
      .select(`${OPERATIONS}.plan_id as plan_id`, `${OPERATIONS}.id as id`);
    for (const row of rows) result.set(row.plan_id, row.id);
    return result;
  }

  async countRunning(): Promise<number> {
    const [{ count }] = await this.db(OPERATIONS)
      .where({ status: 'running' })
      .count({ count: '*' });
    return Number(count);
  }

  async appendLines(
    operationId: string,
    lines: OperationLine[],
  ): Promise<void> {
    if (lines.length === 0) return;
    await this.db.transaction(async tx => {
      await tx(LINES).insert(
        lines.map(line => ({
          operation_id: operationId,
          seq: line.seq,
          at: line.at,
          text: line.text,
        })),
      );
      await tx(OPERATIONS)
        .where({ id: operationId })
        .update({ line_count: lines[lines.length - 1].seq });
    });
  }

  async linesAfter(
    operationId: string,
    after: number,
    limit: number,
  ): Promise<OperationLine[]> {
    const rows = await this.db(LINES)
      .where({ operation_id: operationId })
      .andWhere('seq', '>', after)
      .orderBy('seq')
      .limit(limit);
    return rows.map(row => ({
      seq: Number(row.seq),
      at: row.at,
      text: row.text,
    }));
  }

  /** The database's clock: the one every replica's leases are measured by. */
  now(): Promise<Date> {
    return databaseNow(this.db);
  }

  /**
   * Renews the runner's lease on a running operation, stamped by the
   * database's clock. `held: false` means the lease is gone (the operation
   * was swept as interrupted, or runs elsewhere): the runner must stop.
   */
  async heartbeat(
    operationId: string,
    runnerId: string,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    const at = (await databaseNow(this.db)).toISOString();
    const renewed = await this.db(OPERATIONS)
      .where({ id: operationId, status: 'running', runner_id: runnerId })
      .update({ heartbeat_at: at });
    const row = await this.db(OPERATIONS)
      .where({ id: operationId })
      .select('cancel_requested')
      .first();
    return {
      held: Number(renewed) > 0,
      cancelRequested: Boolean(row?.cancel_requested),
    };
  }

  async setInputsHash(operationId: string, inputsHash: string): Promise<void> {
    await this.db(OPERATIONS)
      .where({ id: operationId })
      .update({ inputs_hash: inputsHash });
  }

  async requestCancel(operationId: string): Promise<void> {
    await this.db(OPERATIONS)
      .where({ id: operationId, status: 'running' })
      .update({ cancel_requested: true });
  }

  /** Records the outcome and frees the release, together. */
  async finish(
    operationId: string,
    outcome: {
      status: OperationStatus;
      result?: Operation['result'];
      error?: string;
      finishedAt: string;
      durationMs: number;
    },
  ): Promise<void> {
    await this.db.transaction(async tx => {
      await tx(OPERATIONS)
        .where({ id: operationId, status: 'running' })
        .update({
          status: outcome.status,
          result: outcome.result ? JSON.stringify(outcome.result) : null,
          error: outcome.error ?? null,
          finished_at: outcome.finishedAt,
          duration_ms: outcome.durationMs,
        });
      await tx(LOCKS).where({ operation_id: operationId }).delete();
    });
  }

  /**
   * Marks operations whose runner stopped proving it is alive as
   * interrupted and frees their releases; returns them.
   */
  async sweepStale(staleAfterMs: number) {
    const now = await databaseNow(this.db);
    const heartbeatBefore = new Date(
      now.getTime() - staleAfterMs,
    ).toISOString();
    const at = now.toISOString();
    return this.db.transaction(async tx => {
      const rows = await tx(OPERATIONS)
        .where({ status: 'running' })
        .andWhere('heartbeat_at', '<', heartbeatBefore)
        .select();
      if (rows.length === 0) return [];
      const ids = rows.map(r => r.id);
      await tx(OPERATIONS)
        .whereIn('id', ids)
        .andWhere({ status: 'running' })
        .update({
          status: 'interrupted',
          error:
            'The backend process running this operation stopped before it finished',
          finished_at: at,
        });
      await tx(LOCKS).whereIn('operation_id', ids).delete();
      return rows.map(fromRow);
    });
  }

  async insertRelease(record: ReleaseRecord): Promise<void> {
    await this.db(RELEASES).insert({
      id: record.id,
      plan_id: record.planId,
      plan_revision: record.planRevision,
      operation_id: record.operationId,
      target_id: record.targetId,
      namespace: record.namespace,
      release_name: record.releaseName,
      helm_revision: record.helmRevision ?? null,
      chart_digest: record.chartDigest ?? null,
      values_hash: record.valuesHash ?? null,
      inputs_hash: record.inputsHash ?? null,
      actor: record.actor,
      outcome: record.outcome,
      created_at: record.createdAt,
    });
  }

  async listReleases(key: ReleaseKey): Promise<ReleaseRecord[]> {
    const rows = await this.db(RELEASES)
      .where({
        target_id: key.targetId,
        namespace: key.namespace,
        release_name: key.releaseName,
      })
      .orderBy('created_at', 'desc')
      .limit(200);
    return rows.map(row => ({
      id: row.id,
      planId: row.plan_id,
      planRevision: Number(row.plan_revision),
      operationId: row.operation_id,
      targetId: row.target_id,
      namespace: row.namespace,
      releaseName: row.release_name,
      helmRevision:
        row.helm_revision === null ? undefined : Number(row.helm_revision),
      chartDigest: row.chart_digest ?? undefined,
      valuesHash: row.values_hash ?? undefined,
      inputsHash: row.inputs_hash ?? undefined,
      actor: row.actor,
      outcome: row.outcome,
      createdAt: row.created_at,
    }));
  }
}

function toRow(operation: StoredOperation) {
  return {
    id: operation.id,
    plan_id: operation.planId,
    plan_revision: operation.planRevision,
    kind: operation.kind,
    status: operation.status,
    actor: operation.actor,
    inputs_hash: operation.inputsHash ?? null,
    target_id: operation.targetId,
    target_name: operation.targetName,
    namespace: operation.namespace,
    release_name: operation.releaseName,
    line_count: operation.lineCount,
    error: operation.error ?? null,
    result: operation.result ? JSON.stringify(operation.result) : null,
    runner_id: operation.runnerId,
    heartbeat_at: operation.heartbeatAt,
    cancel_requested: operation.cancelRequested,
    created_at: operation.createdAt,
    finished_at: operation.finishedAt ?? null,
    duration_ms: operation.durationMs ?? null,
  };
}
