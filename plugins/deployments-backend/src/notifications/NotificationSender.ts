import { LoggerService } from '@backstage/backend-plugin-api';
import {
  NotificationSendOptions,
  NotificationService,
} from '@backstage/plugin-notifications-node';

/**
 * Sends through Backstage notifications without ever failing the change that
 * caused it: the change stands and shows in the portal whether or not the
 * notifications backend answered. Without the notifications service (a
 * backend that does not install it) nothing is sent.
 */
export class NotificationSender {
  private constructor(
    private readonly notifications: NotificationService | undefined,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    notifications?: NotificationService;
    logger: LoggerService;
  }): NotificationSender {
    return new NotificationSender(options.notifications, options.logger);
  }

  /**
   * Sends unless there is nobody to send to; `nobodyBecause` says in the log
   * why the list came out empty (which setting to fill).
   */
  async send(
    options: NotificationSendOptions,
    nobodyBecause = 'no recipients',
  ): Promise<boolean> {
    if (!this.notifications) return false;
    if (
      options.recipients.type === 'entity' &&
      [options.recipients.entityRef].flat().length === 0
    ) {
      this.logger.warn(
        `Nobody to notify of "${options.payload.title}": ${nobodyBecause}`,
      );
      return false;
    }
    try {
      await this.notifications.send(options);
      return true;
    } catch (error) {
      this.logger.warn(
        `Could not send the notification "${options.payload.title}": ${
          (error as Error).message
        }`,
      );
      return false;
    }
  }
}
