import {
  LoggerService,
  RootConfigService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { DryRunResult } from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';
import { AuditTrail } from '../audit/AuditTrail';
import { DatabaseRetentionStore } from './DatabaseRetentionStore';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How many candidate operations one query picks up. */
const CANDIDATES = 100;

/** What one pass of the retention task removed. */
export interface RetentionReport {
  auditEntries: number;
  operationLines: number;
  compactedOutputs: number;
  /** False when the pass stopped at its statement cap; the next pass goes on. */
  complete: boolean;
}

export interface RetentionOptions {
  /** Audit entries older than this many days are deleted; 0 keeps them forever. Default 365. */
  auditDays?: number;
  /**
   * Progress lines of operations that finished more than this many days ago
   * are deleted, and large dry-run output is compacted; 0 keeps them
   * forever. Default 90.
   */
  operationLinesDays?: number;
  /** Rows per statement. Default 1000. */
  batchSize?: number;
  /** Statements per pass; the rest waits for the next pass. Default 100. */
  maxBatchesPerRun?: number;
  /** Dry-run results above this many characters are compacted. Default 65536. */
  largeOutputChars?: number;
  /** How often a pass runs, in minutes. Default 60. */
  intervalMinutes?: number;
}

/**
 * Removes what the plugin no longer needs to keep: audit entries and
 * operations' progress lines past their retention, and the per-object
 * diffs and manifests of old dry-runs no plan relies on. It never deletes
 * operations themselves, release records (`deployments_releases`) or
 * approvals, never touches a running operation, and never changes what
 * rollback and apply read: an apply's `rendered` digests (see
 * `DatabaseOperationStore.appliedDigests`) and the last dry-run of each plan
 * stay as they are. Each statement is bounded, and a pass stops after
 * `maxBatchesPerRun` of them.
 */
export class RetentionTask {
  private constructor(
    private readonly store: DatabaseRetentionStore,
    private readonly logger: LoggerService,
    private readonly audit: Pick<AuditTrail, 'recordOutcome'> | undefined,
    private readonly settings: Required<RetentionOptions>,
    private readonly now: () => Date,
  ) {}

  static create(
    options: RetentionOptions & {
      db: Knex;
      logger: LoggerService;
      audit?: Pick<AuditTrail, 'recordOutcome'>;
      now?: () => Date;
    },
  ): RetentionTask {
    const settings: Required<RetentionOptions> = {
      auditDays: options.auditDays ?? 365,
      operationLinesDays: options.operationLinesDays ?? 90,
      batchSize: options.batchSize ?? 1000,
      maxBatchesPerRun: options.maxBatchesPerRun ?? 100,
      largeOutputChars: options.largeOutputChars ?? 65536,
      intervalMinutes: options.intervalMinutes ?? 60,
    };
    for (const [key, value] of Object.entries(settings)) {
      const zeroAllowed = key === 'auditDays' || key === 'operationLinesDays';
      if (!Number.isFinite(value) || value < (zeroAllowed ? 0 : 1)) {
        throw new Error(
          `deployments.retention.${key} must be a number of at least ${
            zeroAllowed ? 0 : 1
          }, got ${value}`,
        );
      }
    }
    return new RetentionTask(
      DatabaseRetentionStore.create(options.db),
      options.logger,
      options.audit,
      settings,
      options.now ?? (() => new Date()),
    );
  }

  static fromConfig(
    config: RootConfigService,
    options: {
      db: Knex;
      logger: LoggerService;
      audit?: Pick<AuditTrail, 'recordOutcome'>;
    },
  ): RetentionTask {
    const retention = config.getOptionalConfig('deployments.retention');
    return RetentionTask.create({
      ...options,
      auditDays: retention?.getOptionalNumber('auditDays'),
      operationLinesDays: retention?.getOptionalNumber('operationLinesDays'),
      batchSize: retention?.getOptionalNumber('batchSize'),
      maxBatchesPerRun: retention?.getOptionalNumber('maxBatchesPerRun'),
      intervalMinutes: retention?.getOptionalNumber('intervalMinutes'),
    });
  }

  /** For `scheduler.scheduleTask`, which runs each pass on one replica. */
  get schedule(): SchedulerServiceTaskScheduleDefinition {
    return {
      frequency: { minutes: this.settings.intervalMinutes },
      timeout: { minutes: 30 },
      initialDelay: { minutes: 5 },
    };
  }

  /** One pass. */
  async run(): Promise<RetentionReport> {
    const { auditDays, operationLinesDays } = this.settings;
    const now = this.now();
    const at = now.toISOString();
    const budget = { left: this.settings.maxBatchesPerRun };
    const report: RetentionReport = {
      auditEntries: 0,
      operationLines: 0,
      compactedOutputs: 0,
      complete: true,
    };
    let auditBefore: string | undefined;
    if (auditDays > 0) {
      auditBefore = new Date(now.getTime() - auditDays * DAY_MS).toISOString();
      report.auditEntries = await this.deleteAudit(auditBefore, budget);
    }
    if (operationLinesDays > 0) {
      const before = new Date(
        now.getTime() - operationLinesDays * DAY_MS,
      ).toISOString();
      report.operationLines = await this.deleteLines(before, at, budget);
      report.compactedOutputs = await this.compactOutputs(before, at, budget);
    }
    report.complete = budget.left > 0;

    if (
      report.auditEntries > 0 ||
      report.operationLines > 0 ||
      report.compactedOutputs > 0
    ) {
      this.logger.info(
        report.complete
          ? 'Retention removed expired entries'
          : 'Retention removed expired entries; the rest follows in the next pass',
        {
          auditEntries: report.auditEntries,
          operationLines: report.operationLines,
          compactedOutputs: report.compactedOutputs,
        },
      );
    }
    if (report.auditEntries > 0 && this.audit) {
      // Removing audit history is itself on the record.
      await this.audit.recordOutcome({
        eventId: 'audit-retention',
        severityLevel: 'medium',
        actor: 'plugin:deployments',
        subject: 'audit trail',
        outcome: 'succeeded',
        meta: {
          deletedEntries: report.auditEntries,
          occurredBefore: auditBefore,
          auditDays,
        },
      });
    }
    return report;
  }

  private async deleteAudit(
    before: string,
    budget: { left: number },
  ): Promise<number> {
    let total = 0;
    while (budget.left > 0) {
      budget.left -= 1;
      const deleted = await this.store.deleteAuditBefore(
        before,
        this.settings.batchSize,
      );
      total += deleted;
      if (deleted < this.settings.batchSize) break;
    }
    return total;
  }

  private async deleteLines(
    before: string,
    at: string,
    budget: { left: number },
  ): Promise<number> {
    let total = 0;
    while (budget.left > 0) {
      const operations = await this.store.withLinesFinishedBefore(
        before,
        CANDIDATES,
      );
      for (const operation of operations) {
        // No line was ever written (line_count is the last seq appended).
        while (operation.lineCount > 0) {
          if (budget.left <= 0) return total;
          budget.left -= 1;
          const deleted = await this.store.deleteLines(
            operation.id,
            this.settings.batchSize,
          );
          total += deleted;
          if (deleted < this.settings.batchSize) break;
        }
        await this.store.markLinesPruned(operation.id, at);
      }
      if (operations.length < CANDIDATES) break;
    }
    return total;
  }

  private async compactOutputs(
    before: string,
    at: string,
    budget: { left: number },
  ): Promise<number> {
    let compacted = 0;
    let inUse: Set<string> | undefined;
    let after: { id: string; finishedAt: string } | undefined;
    while (budget.left > 0) {
      const candidates = await this.store.dryRunsFinishedBefore(
        before,
        CANDIDATES,
        after,
      );
      if (candidates.length === 0) break;
      after = candidates[candidates.length - 1];
      inUse ??= await this.store.dryRunsInUse();
      const small: string[] = [];
      for (const candidate of candidates) {
        // A plan's last dry-run gates its next apply with all it recorded;
        // it is looked at again once the plan has moved on.
        if (inUse.has(candidate.id)) continue;
        if (candidate.size <= this.settings.largeOutputChars) {
          small.push(candidate.id);
          continue;
        }
        if (budget.left <= 0) break;
        budget.left -= 1;
        const result = await this.store.readResult(candidate.id);
        await this.store.markOutputCompacted(
          [candidate.id],
          at,
          compactDryRun(result as DryRunResult | undefined),
        );
        compacted += 1;
      }
      await this.store.markOutputCompacted(small, at);
      if (candidates.length < CANDIDATES) break;
    }
    return compacted;
  }
}

/**
 * A dry-run result without its per-object diffs and manifests, the bulk of
 * it: what was checked (`rendered` with its digests), the verdict, the
 * violations, warnings and the list of objects with their changes stay.
 */
export function compactDryRun(
  result: DryRunResult | undefined,
): DryRunResult | undefined {
  if (!result || !Array.isArray(result.objects)) return result;
  return {
    ...result,
    objects: result.objects.map(
      ({ diff: _diff, liveDiff: _liveDiff, manifest: _manifest, ...kept }) =>
        kept,
    ),
  };
}
