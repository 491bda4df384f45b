import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  AuditorServiceEventSeverityLevel,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { ServiceUnavailableError } from '@backstage/errors';
import { AuditEntry, DatabaseAuditStore } from './DatabaseAuditStore';

export interface AuditedAction {
  /** Kebab-case, e.g. `target-create`. */
  eventId: string;
  severityLevel: AuditorServiceEventSeverityLevel;
  request: AuditorServiceCreateEventOptions['request'];
  credentials: BackstageCredentials;
  /** What the action is about, e.g. the target name. */
  subject?: string;
  /** Non-secret details. */
  meta?: Record<string, unknown>;
  /** Reads are sent to the auditor but only stored when denied or failed. */
  kind?: 'mutation' | 'read';
}

/**
 * Records every action with Backstage's auditor and in the plugin's own trail
 * (which the admin page shows): actor, what, subject, outcome. Denials are
 * recorded too.
 */
export class AuditTrail {
  private constructor(
    private readonly auditor: AuditorService,
    private readonly store: DatabaseAuditStore,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    auditor: AuditorService;
    store: DatabaseAuditStore;
    logger: LoggerService;
  }): AuditTrail {
    return new AuditTrail(options.auditor, options.store, options.logger);
  }

  /**
   * Runs an audited action. `resultMeta` adds facts known only afterwards,
   * e.g. the id of the operation a request started.
   *
   * Mutations fail closed: their entry is written before `fn` runs and the
   * action is refused (ServiceUnavailableError, 503) when it cannot be, so
   * nothing changes that the trail does not show. The entry is then settled
   * with the outcome; if only that last write fails the change stands (it
   * is committed) and the entry says its outcome was not recorded. Reads are
   * not held up by the trail: a denied or failed read whose copy cannot be
   * stored is logged, and the auditor service still has the event.
   */
  async run<T>(
    action: AuditedAction,
    fn: () => Promise<T>,
    resultMeta?: (result: T) => Record<string, unknown>,
  ): Promise<T> {
    const meta = {
      ...action.meta,
      ...(action.subject ? { subject: action.subject } : {}),
    };
    const event = await this.auditor.createEvent({
      eventId: action.eventId,
      severityLevel: action.severityLevel,
      request: action.request,
      meta,
    });
    let entryId: number | undefined;
    if (action.kind !== 'read') {
      try {
        entryId = await this.store.begin({
          occurredAt: new Date().toISOString(),
          actor: actorOf(action.credentials),
          eventId: action.eventId,
          subject: action.subject,
          meta: action.meta,
        });
      } catch (error) {
        this.logger.error('Could not store an audit entry, refusing it', {
          eventId: action.eventId,
          subject: action.subject,
          error: (error as Error).message,
        });
        const refused = new ServiceUnavailableError(
          `The audit trail cannot be written, so ${action.eventId} was refused and nothing was changed; try again later`,
        );
        await event.fail({ error: refused, meta });
        throw refused;
      }
    }
    try {
      const result = await fn();
      const extra = resultMeta?.(result);
      await event.success({ meta: { ...meta, ...extra } });
      if (entryId !== undefined) {
        await this.settle(entryId, action, {
          outcome: 'succeeded',
          meta: extra ? { ...action.meta, ...extra } : action.meta,
        });
      }
      return result;
    } catch (error) {
      const e = this.clarify(error as Error, action);
      await event.fail({ error: e, meta });
      const outcome = {
        outcome: e.name === 'NotAllowedError' ? 'denied' : 'failed',
        message: `${e.name}: ${e.message}`.slice(0, 2000),
        meta: action.meta,
      } as const;
      if (entryId !== undefined) {
        await this.settle(entryId, action, outcome);
      } else {
        await this.record(action, outcome.outcome, outcome.message);
      }
      throw e;
    }
  }

  /**
   * A database connection lost or refused in the middle of an action reaches
   * here as the driver's error, whose message is the SQL statement: it
   * becomes a 503 saying what happened and that the change may or may not
   * have been stored (a statement sent before the connection broke may have
   * committed). The driver's error is logged.
   */
  private clarify(error: Error, action: AuditedAction): Error {
    if (!isDatabaseConnectionError(error)) {
      return error;
    }
    this.logger.error('Database connection failed during an audited action', {
      eventId: action.eventId,
      subject: action.subject,
      error: error.message,
    });
    return new ServiceUnavailableError(
      `The database connection failed during ${action.eventId}; the change may or may not have been stored: read it back before trying again`,
    );
  }

  private async settle(
    entryId: number,
    action: AuditedAction,
    outcome: Pick<AuditEntry, 'outcome' | 'message' | 'meta'>,
  ) {
    try {
      await this.store.settle(entryId, outcome);
    } catch (error) {
      // The action already happened (or failed); its entry says the outcome is unknown.
      this.logger.error('Could not store the outcome of an audit entry', {
        auditEntryId: entryId,
        eventId: action.eventId,
        error: (error as Error).message,
      });
    }
  }

  /**
   * The outcome of background work (an operation) that a request started:
   * recorded for the actor who started it, with no request to attach. The
   * work has already happened and the request that started it has its own
   * entry, so a failed copy is logged rather than thrown.
   */
  async recordOutcome(entry: {
    eventId: string;
    severityLevel: AuditedAction['severityLevel'];
    actor: string;
    subject: string;
    outcome: 'succeeded' | 'failed';
    message?: string;
    meta: Record<string, unknown>;
  }): Promise<void> {
    const meta = { ...entry.meta, actor: entry.actor, subject: entry.subject };
    try {
      const event = await this.auditor.createEvent({
        eventId: entry.eventId,
        severityLevel: entry.severityLevel,
        meta,
      });
      if (entry.outcome === 'succeeded') {
        await event.success({ meta });
      } else {
        await event.fail({ error: new Error(entry.message ?? 'failed'), meta });
      }
      await this.store.append({
        occurredAt: new Date().toISOString(),
        actor: entry.actor,
        eventId: entry.eventId,
        subject: entry.subject,
        outcome: entry.outcome,
        message: entry.message?.slice(0, 2000),
        meta: entry.meta,
      });
    } catch (error) {
      this.logger.error('Could not record an audit entry', {
        eventId: entry.eventId,
        subject: entry.subject,
        error: (error as Error).message,
      });
    }
  }

  private async record(
    action: AuditedAction,
    outcome: 'succeeded' | 'failed' | 'denied',
    message?: string,
  ) {
    try {
      await this.store.append({
        occurredAt: new Date().toISOString(),
        actor: actorOf(action.credentials),
        eventId: action.eventId,
        subject: action.subject,
        outcome,
        message: message?.slice(0, 2000),
        meta: action.meta,
      });
    } catch (error) {
      // Only reads get here: the auditor already has the event, and a failed
      // copy must not fail a read.
      this.logger.error('Could not store an audit entry', {
        eventId: action.eventId,
        subject: action.subject,
        error: (error as Error).message,
      });
    }
  }
}

function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (principal.type === 'user' && principal.userEntityRef)
    return principal.userEntityRef;
  if (principal.type === 'service' && principal.subject)
    return principal.subject;
  return principal.type;
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * A knex query whose connection failed (knex prefixes the driver's message
 * with the statement), PostgreSQL's connection-exception and shutdown
 * classes (08, 57P01-03), the pg driver's lost connection (also as the
 * ROLLBACK knex sends on it), or no pooled
 * connection within knex's timeout.
 */
function isDatabaseConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  const message = error.message ?? '';
  if (error.name === 'KnexTimeoutError') return true;
  if (
    /(^| - )(Connection terminated|Connection ended unexpectedly|Client has encountered a connection error)/.test(
      message,
    )
  ) {
    return true;
  }
  if (typeof code !== 'string') return false;
  if (/^(08...|57P0[123])$/.test(code)) return true;
  return (
    CONNECTION_ERROR_CODES.has(code) &&
    /^(select|insert|update|delete|with)\b[\s\S]* - /i.test(message)
  );
}
