import { Knex } from 'knex';

const AUDIT = 'deployments_audit_events';
const OPERATIONS = 'deployments_operations';
const LINES = 'deployments_operation_lines';
const PLANS = 'deployments_plans';

/** A finished operation whose retention work is still to do. */
export interface RetentionCandidate {
  id: string;
  finishedAt: string;
}

/**
 * The statements the retention task runs. Every delete touches at most
 * `limit` rows (`... WHERE key IN (SELECT key ... LIMIT n)`, which PostgreSQL
 * and SQLite both run), so a large table is never locked for long.
 */
export class DatabaseRetentionStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseRetentionStore {
    return new DatabaseRetentionStore(db);
  }

  /** Deletes up to `limit` audit entries that occurred before `before`. */
  async deleteAuditBefore(before: string, limit: number): Promise<number> {
    return this.db(AUDIT)
      .whereIn(
        'id',
        this.db(AUDIT)
          .select('id')
          .where('occurred_at', '<', before)
          .limit(limit),
      )
      .delete();
  }

  /**
   * Operations that finished before `before` and still have their lines,
   * oldest first. A running operation has no finished_at, so never appears.
   */
  async withLinesFinishedBefore(
    before: string,
    limit: number,
  ): Promise<Array<RetentionCandidate & { lineCount: number }>> {
    const rows = await this.db(OPERATIONS)
      .whereNull('lines_pruned_at')
      .where('finished_at', '<', before)
      .whereNot('status', 'running')
      .select('id', 'finished_at', 'line_count')
      .orderBy([
        { column: 'finished_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(limit);
    return rows.map(row => ({
      id: row.id,
      finishedAt: row.finished_at,
      lineCount: Number(row.line_count),
    }));
  }

  /**
   * Deletes up to `limit` lines of one operation, lowest first; the
   * statement itself refuses to touch an operation that is running.
   */
  async deleteLines(operationId: string, limit: number): Promise<number> {
    return this.db(LINES)
      .where({ operation_id: operationId })
      .whereIn(
        'seq',
        this.db(LINES)
          .select('seq')
          .where({ operation_id: operationId })
          .orderBy('seq')
          .limit(limit),
      )
      .whereIn(
        'operation_id',
        this.db(OPERATIONS)
          .select('id')
          .where({ id: operationId })
          .whereNot('status', 'running'),
      )
      .delete();
  }

  async markLinesPruned(operationId: string, at: string): Promise<void> {
    await this.db(OPERATIONS)
      .where({ id: operationId })
      .whereNull('lines_pruned_at')
      .update({ lines_pruned_at: at });
  }

  /**
   * Finished dry-runs whose output retention has not run, oldest first and
   * after `after` (to page past the ones skipped in this pass), with the
   * size of their stored result in characters.
   */
  async dryRunsFinishedBefore(
    before: string,
    limit: number,
    after?: RetentionCandidate,
  ): Promise<Array<RetentionCandidate & { size: number }>> {
    const query = this.db(OPERATIONS)
      .where({ kind: 'dry-run' })
      .whereNull('output_compacted_at')
      .where('finished_at', '<', before)
      .whereNot('status', 'running')
      .select(
        'id',
        'finished_at',
        this.db.raw('coalesce(length(result), 0) as size'),
      )
      .orderBy([
        { column: 'finished_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(limit);
    if (after) {
      // Row values compare in order; PostgreSQL and SQLite both support them.
      query.whereRaw('(finished_at, id) > (?, ?)', [
        after.finishedAt,
        after.id,
      ]);
    }
    const rows = await query;
    return rows.map(row => ({
      id: row.id,
      finishedAt: row.finished_at,
      size: Number(row.size),
    }));
  }

  /** The dry-runs plans currently rely on (their last dry-run gates apply). */
  async dryRunsInUse(): Promise<Set<string>> {
    const rows = await this.db(PLANS)
      .whereNotNull('last_dry_run')
      .select('last_dry_run');
    const ids = new Set<string>();
    for (const row of rows) {
      const gate = JSON.parse(row.last_dry_run) as { operationId?: unknown };
      if (typeof gate.operationId === 'string') ids.add(gate.operationId);
    }
    return ids;
  }

  async readResult(operationId: string): Promise<unknown> {
    const row = await this.db(OPERATIONS)
      .where({ id: operationId })
      .select('result')
      .first();
    return row?.result ? JSON.parse(row.result) : undefined;
  }

  /** Records that output retention ran; `result`, when given, replaces the stored one. */
  async markOutputCompacted(
    operationIds: string[],
    at: string,
    result?: unknown,
  ): Promise<void> {
    if (operationIds.length === 0) return;
    await this.db(OPERATIONS)
      .whereIn('id', operationIds)
      .whereNull('output_compacted_at')
      .whereNot('status', 'running')
      .update({
        output_compacted_at: at,
        ...(result === undefined ? {} : { result: JSON.stringify(result) }),
      });
  }
}
