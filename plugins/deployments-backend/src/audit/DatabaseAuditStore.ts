import { Knex } from 'knex';

/** One entry of the plugin's audit trail. Never holds secret values. */
export interface AuditEntry {
  id?: number;
  occurredAt: string;
  actor: string;
  eventId: string;
  subject?: string;
  outcome: 'succeeded' | 'failed' | 'denied';
  message?: string;
  meta?: Record<string, unknown>;
}

export interface AuditQuery {
  actor?: string;
  eventId?: string;
  subject?: string;
  outcome?: AuditEntry['outcome'];
  limit?: number;
  /** Entries with an id below this, for paging backwards in time. */
  before?: number;
}

const TABLE = 'deployments_audit_events';

/** The audit trail in the plugin's database. */
export class DatabaseAuditStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseAuditStore {
    return new DatabaseAuditStore(db);
  }

  async append(entry: AuditEntry): Promise<void> {
    await this.db(TABLE).insert({
      occurred_at: entry.occurredAt,
      actor: entry.actor,
      event_id: entry.eventId,
      subject: entry.subject ?? null,
      outcome: entry.outcome,
      message: entry.message ?? null,
      meta: entry.meta ? JSON.stringify(entry.meta) : null,
    });
  }

  async list(query: AuditQuery): Promise<Array<AuditEntry & { id: number }>> {
    const q = this.db(TABLE).select().orderBy('id', 'desc');
    if (query.actor) q.where('actor', query.actor);
    if (query.eventId) q.where('event_id', query.eventId);
    if (query.subject) q.where('subject', query.subject);
    if (query.outcome) q.where('outcome', query.outcome);
    if (query.before) q.where('id', '<', query.before);
    const rows = await q.limit(Math.min(Math.max(query.limit ?? 50, 1), 500));
    return rows.map(row => ({
      id: Number(row.id),
      occurredAt: row.occurred_at,
      actor: row.actor,
      eventId: row.event_id,
      subject: row.subject ?? undefined,
      outcome: row.outcome,
      message: row.message ?? undefined,
      meta: row.meta ? JSON.parse(row.meta) : undefined,
    }));
  }
}
