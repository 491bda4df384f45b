import {
  Advisory,
  AdvisoryCheck,
  AdvisoryKind,
  AdvisoryRemedy,
} from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';
import { createHash, randomUUID } from 'node:crypto';

/** A finding of one check: what runs and what is available for one subject. */
export interface AdvisoryFinding {
  subjectKind: Advisory['subjectKind'];
  subject: string;
  workload?: string;
  container?: string;
  initContainer?: boolean;
  running: string;
  runningDigest?: string;
  source: string;
  kind: AdvisoryKind;
  available?: string;
  availableDigest?: string;
  detail?: string;
  remedy?: AdvisoryRemedy;
}

/** What one check of a release found; subjects it could not check keep their advisories. */
export interface CheckResult {
  planId: string;
  checkedAt: string;
  running: AdvisoryCheck['running'];
  problems: AdvisoryCheck['problems'];
  findings: AdvisoryFinding[];
  /** Every subject the check saw running, checked or not. */
  runningSubjects: Map<string, string>;
  /** Subjects whose source could not be read: their open advisories stay as they are. */
  uncheckedSubjects: Set<string>;
}

const ADVISORIES = 'deployments_advisories';
const CHECKS = 'deployments_advisory_checks';

function openKeyOf(planId: string, finding: AdvisoryFinding): string {
  const identity = JSON.stringify([
    planId,
    finding.subject,
    finding.running,
    finding.runningDigest ?? '',
    finding.kind,
    finding.available ?? '',
    finding.availableDigest ?? '',
  ]);
  return `sha256:${createHash('sha256').update(identity).digest('hex')}`;
}

function stateOf(row: Record<string, any>, now: string): Advisory['state'] {
  if (row.resolved_at) return 'resolved';
  if (row.dismissed_at && (!row.dismissed_until || row.dismissed_until > now)) {
    return 'dismissed';
  }
  return 'open';
}

function fromRow(row: Record<string, any>, now: string): Advisory {
  const optional = <T>(value: T | null | undefined) =>
    value === null || value === undefined ? undefined : value;
  return {
    id: row.id,
    planId: row.plan_id,
    subjectKind: row.subject_kind,
    subject: row.subject,
    workload: optional(row.workload),
    container: optional(row.container),
    initContainer:
      row.subject_kind === 'image' ? Boolean(row.init_container) : undefined,
    running: row.running,
    runningDigest: optional(row.running_digest),
    source: row.source,
    kind: row.kind,
    available: optional(row.available),
    availableDigest: optional(row.available_digest),
    detail: optional(row.detail),
    remedy: row.remedy ? JSON.parse(row.remedy) : undefined,
    state: stateOf(row, now),
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    dismissedBy: optional(row.dismissed_by),
    dismissedAt: optional(row.dismissed_at),
    dismissReason: optional(row.dismiss_reason),
    dismissedUntil: optional(row.dismissed_until),
    resolvedAt: optional(row.resolved_at),
    resolvedReason: optional(row.resolved_reason),
  };
}

/** Why an open advisory closes when a check no longer finds it. */
function resolutionOf(
  row: Record<string, any>,
  result: CheckResult,
  found: AdvisoryFinding[],
): string {
  const runs = result.runningSubjects.get(row.subject);
  if (runs === undefined) return 'no longer runs';
  if (runs !== row.running) return `now runs ${runs}`;
  const successor = found.find(
    f => f.subject === row.subject && f.kind === row.kind,
  );
  if (successor?.available) return `superseded by ${successor.available}`;
  return 'no longer available';
}

/** Advisories and the last check of each release, in the plugin's database. */
export class DatabaseAdvisoryStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseAdvisoryStore {
    return new DatabaseAdvisoryStore(db);
  }

  /**
   * Stores one check in one transaction: new findings open advisories (the
   * returned ones, to announce), known ones are seen again, and open ones the
   * check no longer finds are resolved, except for subjects it could not check.
   */
  async recordCheck(result: CheckResult): Promise<Advisory[]> {
    const now = result.checkedAt;
    return this.db.transaction(async tx => {
      const open = await tx(ADVISORIES)
        .where({ plan_id: result.planId })
        .whereNull('resolved_at');
      const keys = new Map(
        result.findings.map(f => [openKeyOf(result.planId, f), f]),
      );
      for (const row of open) {
        if (keys.has(row.open_key)) continue;
        if (result.uncheckedSubjects.has(row.subject)) continue;
        await tx(ADVISORIES)
          .where({ id: row.id })
          .update({
            open_key: null,
            resolved_at: now,
            resolved_reason: resolutionOf(row, result, result.findings),
          });
      }
      const known = new Set(open.map(row => row.open_key));
      const created: Advisory[] = [];
      for (const [key, finding] of keys) {
        if (known.has(key)) {
          await tx(ADVISORIES)
            .where({ open_key: key })
            .update({
              last_seen_at: now,
              detail: finding.detail ?? null,
              remedy: finding.remedy ? JSON.stringify(finding.remedy) : null,
            });
          continue;
        }
        const row = {
          id: randomUUID(),
          plan_id: result.planId,
          open_key: key,
          subject_kind: finding.subjectKind,
          subject: finding.subject,
          workload: finding.workload ?? null,
          container: finding.container ?? null,
          init_container: finding.initContainer ?? false,
          running: finding.running,
          running_digest: finding.runningDigest ?? null,
          source: finding.source,
          kind: finding.kind,
          available: finding.available ?? null,
          available_digest: finding.availableDigest ?? null,
          detail: finding.detail ?? null,
          remedy: finding.remedy ? JSON.stringify(finding.remedy) : null,
          first_seen_at: now,
          last_seen_at: now,
        };
        await tx(ADVISORIES).insert(row);
        created.push(fromRow(row, now));
      }
      const check = {
        checked_at: now,
        running: JSON.stringify(result.running),
        problems: JSON.stringify(result.problems),
      };
      const updated = await tx(CHECKS)
        .where({ plan_id: result.planId })
        .update(check);
      if (!updated) {
        await tx(CHECKS).insert({ plan_id: result.planId, ...check });
      }
      return created;
    });
  }

  /** Records that the owners were told of an advisory, so they are told once. */
  async markNotified(id: string, at: string): Promise<void> {
    await this.db(ADVISORIES)
      .where({ id })
      .whereNull('notified_at')
      .update({ notified_at: at });
  }

  async get(id: string): Promise<Advisory | undefined> {
    const row = await this.db(ADVISORIES).where({ id }).first();
    return row ? fromRow(row, new Date().toISOString()) : undefined;
  }

  /** Open and dismissed advisories of these plans (resolved ones too when asked), newest first. */
  async listForPlans(
    planIds: string[],
    options: { includeResolved?: boolean; limit?: number } = {},
  ): Promise<Advisory[]> {
    if (planIds.length === 0) return [];
    const now = new Date().toISOString();
    const rows: Record<string, any>[] = [];
    // Bounded IN lists: SQLite caps the number of bound parameters.
    for (let i = 0; i < planIds.length; i += 500) {
      let query = this.db(ADVISORIES).whereIn(
        'plan_id',
        planIds.slice(i, i + 500),
      );
      if (!options.includeResolved) query = query.whereNull('resolved_at');
      rows.push(
        ...(await query
          .orderBy('first_seen_at', 'desc')
          .orderBy('id')
          .limit(options.limit ?? 1000)),
      );
    }
    return rows.map(row => fromRow(row, now));
  }

  async getChecks(planIds: string[]): Promise<AdvisoryCheck[]> {
    if (planIds.length === 0) return [];
    const checks: AdvisoryCheck[] = [];
    for (let i = 0; i < planIds.length; i += 500) {
      const rows = await this.db(CHECKS).whereIn(
        'plan_id',
        planIds.slice(i, i + 500),
      );
      checks.push(
        ...rows.map(row => ({
          planId: row.plan_id,
          checkedAt: row.checked_at,
          running: JSON.parse(row.running),
          problems: JSON.parse(row.problems),
        })),
      );
    }
    return checks;
  }

  /** Dismisses an advisory that is not resolved; false when there is none. */
  async dismiss(
    id: string,
    dismissal: { by: string; at: string; reason: string; until?: string },
  ): Promise<boolean> {
    const updated = await this.db(ADVISORIES)
      .where({ id })
      .whereNull('resolved_at')
      .update({
        dismissed_by: dismissal.by,
        dismissed_at: dismissal.at,
        dismiss_reason: dismissal.reason,
        dismissed_until: dismissal.until ?? null,
      });
    return updated === 1;
  }
}
