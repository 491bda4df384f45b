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

const UNSETTLED_MESSAGE =
  'Outcome not recorded: the action started, but its outcome could not be stored (the backend stopped or the audit store failed); it may have taken effect';

/**
 * The subject column holds 255 characters; a subject can be longer (a chart
 * reference may be 1024), and PostgreSQL refuses an overlong value, which
 * made the trail unwritable and the request a 503. Kept to the column.
 */
function subjectColumn(subject: string | undefined): string | null {
  if (subject === undefined) return null;
  return subject.length > 255 ? `${subject.slice(0, 254)}…` : subject;
}

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
      subject: subjectColumn(entry.subject),
      outcome: entry.outcome,
      message: entry.message ?? null,
      meta: entry.meta ? JSON.stringify(entry.meta) : null,
    });
  }

  /**
   * Records that an action is starting, before it changes anything, and
   * returns the entry's id for {@link DatabaseAuditStore.settle}. Until
   * settled the entry reads as failed with a message saying its outcome was
   * never recorded, which is what it means when the process stops first.
   */
  async begin(
    entry: Omit<AuditEntry, 'id' | 'outcome' | 'message'>,
  ): Promise<number> {
    const [row] = await this.db(TABLE)
      .insert({
        occurred_at: entry.occurredAt,
        actor: entry.actor,
        event_id: entry.eventId,
        subject: subjectColumn(entry.subject),
        outcome: 'failed',
        message: UNSETTLED_MESSAGE,
        meta: entry.meta ? JSON.stringify(entry.meta) : null,
      })
      .returning('id');
    return Number(typeof row === 'object' ? row.id : row);
  }

  /** Records the outcome of an entry made by {@link DatabaseAuditStore.begin}. */
  async settle(
    id: number,
    outcome: Pick<AuditEntry, 'outcome' | 'message' | 'meta'>,
  ): Promise<void> {
    await this.db(TABLE)
      .where({ id })
      .update({
        outcome: outcome.outcome,
        message: outcome.message ?? null,
        meta: outcome.meta ? JSON.stringify(outcome.meta) : null,
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
