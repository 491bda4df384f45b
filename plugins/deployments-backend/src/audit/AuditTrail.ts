import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  AuditorServiceEventSeverityLevel,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { DatabaseAuditStore } from './DatabaseAuditStore';

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
    try {
      const result = await fn();
      const extra = resultMeta?.(result);
      await event.success({ meta: { ...meta, ...extra } });
      if (action.kind !== 'read') {
        await this.record(
          extra ? { ...action, meta: { ...action.meta, ...extra } } : action,
          'succeeded',
        );
      }
      return result;
    } catch (error) {
      const e = error as Error;
      await event.fail({ error: e, meta });
      await this.record(
        action,
        e.name === 'NotAllowedError' ? 'denied' : 'failed',
        `${e.name}: ${e.message}`,
      );
      throw error;
    }
  }

  /**
   * The outcome of background work (an operation) that a request started:
   * recorded for the actor who started it, with no request to attach.
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
      this.logger.error(
        `Could not record audit entry ${entry.eventId}: ${
          (error as Error).message
        }`,
      );
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
      // The auditor already has the event; a failed copy must not fail the request.
      this.logger.error(
        `Could not store audit entry ${action.eventId}: ${
          (error as Error).message
        }`,
      );
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
