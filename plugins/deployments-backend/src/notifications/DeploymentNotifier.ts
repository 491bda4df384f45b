import { LoggerService } from '@backstage/backend-plugin-api';
import { NotificationSendOptions } from '@backstage/plugin-notifications-node';
import { SignalsService } from '@backstage/plugin-signals-node';
import { OperationStatus } from '@kubedeploy/plugin-deployments-common';
import { StoredOperation } from '../operations/DatabaseOperationStore';
import { StoredPlan } from '../plans/DatabasePlanStore';
import { deploymentsPageLink, planLink } from './links';
import { NotificationSender } from './NotificationSender';

type NotificationSeverity = NonNullable<
  NotificationSendOptions['payload']['severity']
>;

/** Operation kinds that change a release; only these are told to people. */
const CHANGE_KINDS = new Set(['apply', 'rollback', 'uninstall']);

/** How long a notification's description quotes an error. */
const MAX_ERROR_LENGTH = 300;

/** The signal channel open pages listen on for operation progress. */
export const OPERATIONS_CHANNEL = 'deployments:operations';

/** What the runner reports on every change of an operation. */
export interface OperationUpdate {
  id: string;
  planId: string;
  status: OperationStatus;
  lineCount: number;
}

/** A newly found patch advisory of one release, as the advisories domain reports it. */
export interface AdvisoryNotice {
  /** Stable id of the advisory: repeats of it update one notification. */
  advisoryId: string;
  plan: Pick<
    StoredPlan,
    | 'id'
    | 'entityRef'
    | 'entityOwner'
    | 'releaseName'
    | 'namespace'
    | 'targetName'
  >;
  /** What is behind: a container image or the chart. */
  subject: 'image' | 'chart';
  /** The image repository or chart name. */
  name: string;
  running: string;
  available: string;
  /** How far the available version is: patch first, then minor, then major. */
  level: 'patch' | 'minor' | 'major';
}

/** How an operation that changes a release ended, for a person. */
export type ChangeOutcome =
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'interrupted'
  | 'cancelled';

/**
 * Who hears of what, in one place: the actor and the entity's owners of the
 * outcome of each apply, rollback and uninstall; the platform group of a
 * keyring left sealed and of a target that stopped answering; the owners of
 * a new patch advisory. Every notification links to where the user acts,
 * has a stable topic, and a scope so a repeat updates the earlier one.
 * Live updates of open pages go by signal to the same people only.
 */
export class DeploymentNotifier {
  /** Recipients of an operation's signals, looked up once per operation. */
  private readonly signalRecipients = new Map<string, Promise<string[]>>();

  private constructor(
    private readonly sender: NotificationSender,
    private readonly signals: SignalsService | undefined,
    private readonly plans: {
      get(id: string): Promise<StoredPlan | undefined>;
    },
    private readonly operations: {
      get(id: string): Promise<StoredOperation | undefined>;
    },
    private readonly platformRefs: string[],
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    sender: NotificationSender;
    signals?: SignalsService;
    plans: { get(id: string): Promise<StoredPlan | undefined> };
    operations: { get(id: string): Promise<StoredOperation | undefined> };
    /** Entity refs of the platform group (deployments.notifications.platform). */
    platformRefs?: string[];
    logger: LoggerService;
  }): DeploymentNotifier {
    return new DeploymentNotifier(
      options.sender,
      options.signals,
      options.plans,
      options.operations,
      [...new Set(options.platformRefs ?? [])],
      options.logger,
    );
  }

  /**
   * The outcome of a finished apply, rollback or uninstall (interrupted ones
   * found by the sweep included), to its actor and the entity's owners.
   * Dry-runs and preflights are the actor's own checks: not sent.
   */
  async operationFinished(operation: StoredOperation): Promise<void> {
    if (!CHANGE_KINDS.has(operation.kind)) return;
    const outcome = changeOutcomeOf(operation);
    if (!outcome) return;
    const plan = await this.plans.get(operation.planId).catch(() => undefined);
    await this.sender.send(
      operationNotification(operation, outcome, plan),
      'the operation has no actor or owner',
    );
  }

  /** The keyring came up sealed after a restart: nothing can deploy until someone unlocks it. */
  async keyringSealed(fingerprint?: string): Promise<void> {
    await this.sender.send(
      keyringSealedNotification(this.platformRefs, fingerprint),
      'deployments.notifications.platform (or deployments.approvals.notify) is empty',
    );
  }

  /**
   * A target's reachability changed at a probe; called on the transition
   * only. Reachable again updates the same notification.
   */
  async targetReachability(change: {
    target: { name: string; owner?: string };
    reachable: boolean;
    error?: string;
  }): Promise<void> {
    await this.sender.send(
      targetReachabilityNotification(this.platformRefs, change),
      'deployments.notifications.platform (or deployments.approvals.notify) is empty and the target has no owner',
    );
  }

  /**
   * A new patch advisory of a release, to the entity's owners. The caller
   * calls it once per advisory (when first seen); the scope makes a second
   * call update the same notification rather than add one.
   */
  async notifyAdvisory(notice: AdvisoryNotice): Promise<void> {
    await this.sender.send(
      advisoryNotification(notice),
      `the entity ${notice.plan.entityRef} has no owner`,
    );
  }

  /**
   * Tells open pages of the people concerned (the actor, the entity's owners
   * and the platform group) that an operation moved; ids and status only.
   */
  publishOperationUpdate(update: OperationUpdate): void {
    if (!this.signals) return;
    const signals = this.signals;
    let recipients = this.signalRecipients.get(update.id);
    if (!recipients) {
      recipients = this.recipientsOf(update).catch(() => this.platformRefs);
      this.signalRecipients.set(update.id, recipients);
    }
    if (update.status !== 'running') this.signalRecipients.delete(update.id);
    recipients
      .then(entityRef =>
        entityRef.length === 0
          ? undefined
          : signals.publish({
              recipients: { type: 'user', entityRef },
              channel: OPERATIONS_CHANNEL,
              message: { ...update },
            }),
      )
      .catch(error =>
        this.logger.debug(`Could not publish an operation signal: ${error}`),
      );
  }

  private async recipientsOf(update: OperationUpdate): Promise<string[]> {
    const [operation, plan] = await Promise.all([
      this.operations.get(update.id),
      this.plans.get(update.planId),
    ]);
    return [
      ...new Set([
        ...(operation ? [operation.actor] : []),
        ...(plan?.entityOwner ? [plan.entityOwner] : []),
        ...this.platformRefs,
      ]),
    ];
  }
}

/** How a change ended, or undefined while it runs. */
export function changeOutcomeOf(
  operation: Pick<StoredOperation, 'status' | 'result'>,
): ChangeOutcome | undefined {
  switch (operation.status) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return operation.result?.type === 'apply' && operation.result.rolledBack
        ? 'rolled-back'
        : 'failed';
    case 'interrupted':
    case 'cancelled':
      return operation.status;
    default:
      return undefined;
  }
}

const OUTCOME_WORDS: Record<ChangeOutcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  'rolled-back': 'failed and was rolled back by Helm',
  interrupted: 'was interrupted',
  cancelled: 'was cancelled',
};

const OUTCOME_SEVERITY: Record<ChangeOutcome, NotificationSeverity> = {
  succeeded: 'low',
  failed: 'high',
  'rolled-back': 'high',
  interrupted: 'high',
  cancelled: 'normal',
};

const WHAT_TO_DO: Partial<Record<ChangeOutcome, string>> = {
  failed: 'Open the plan to read the error and the operation log.',
  'rolled-back':
    'The release is back at its previous revision; open the plan to read why.',
  interrupted:
    'The backend running it stopped; open the plan to see the state it left and roll back or apply again.',
};

/** The notification of a finished change; exported for its tests. */
export function operationNotification(
  operation: StoredOperation,
  outcome: ChangeOutcome,
  plan: StoredPlan | undefined,
): NotificationSendOptions {
  const where = `release "${operation.releaseName}" in namespace "${operation.namespace}" on target "${operation.targetName}"`;
  const kind = operation.kind.charAt(0).toUpperCase() + operation.kind.slice(1);
  const error = operation.error
    ? ` Error: ${truncate(operation.error, MAX_ERROR_LENGTH)}`
    : '';
  return {
    recipients: {
      type: 'entity',
      entityRef: [
        ...new Set([
          operation.actor,
          ...(plan?.entityOwner ? [plan.entityOwner] : []),
        ]),
      ].filter(ref => ref.includes(':')),
    },
    payload: {
      title: `${kind} of ${operation.releaseName} ${OUTCOME_WORDS[outcome]}`,
      description: `${kind} of ${where} by ${operation.actor} ${
        OUTCOME_WORDS[outcome]
      } (plan revision ${operation.planRevision}).${error}${
        WHAT_TO_DO[outcome] ? ` ${WHAT_TO_DO[outcome]}` : ''
      }`,
      // An uninstalled release's plan may be gone: the operations list still has it.
      link: plan
        ? planLink(plan, 'deployments')
        : deploymentsPageLink('operations'),
      severity: OUTCOME_SEVERITY[outcome],
      topic: `deployments-release:${operation.planId}`,
      // The next outcome of the same kind replaces this one.
      scope: `deployments-release:${operation.planId}:${operation.kind}`,
    },
  };
}

export function keyringSealedNotification(
  platformRefs: string[],
  fingerprint?: string,
): NotificationSendOptions {
  return {
    recipients: { type: 'entity', entityRef: platformRefs },
    payload: {
      title: 'Deployments keyring is sealed',
      description: `The backend restarted and the keyring${
        fingerprint ? ` ${fingerprint}` : ''
      } is sealed: no plan can be dry-run, applied or rolled back until someone unlocks it.`,
      link: deploymentsPageLink('keyring'),
      severity: 'critical',
      topic: 'deployments-keyring',
      scope: 'deployments-keyring:sealed',
    },
  };
}

export function targetReachabilityNotification(
  platformRefs: string[],
  change: {
    target: { name: string; owner?: string };
    reachable: boolean;
    error?: string;
  },
): NotificationSendOptions {
  const { target } = change;
  return {
    recipients: {
      type: 'entity',
      entityRef: [
        ...new Set([...platformRefs, ...(target.owner ? [target.owner] : [])]),
      ],
    },
    payload: change.reachable
      ? {
          title: `Target ${target.name} is reachable again`,
          description: `The API server of target "${target.name}" answers again.`,
          link: deploymentsPageLink('targets'),
          severity: 'low',
          topic: `deployments-target:${target.name}`,
          scope: `deployments-target:${target.name}:reachability`,
        }
      : {
          title: `Target ${target.name} is unreachable`,
          description: `The API server of target "${
            target.name
          }" did not answer the last probe${
            change.error ? `: ${truncate(change.error, MAX_ERROR_LENGTH)}` : ''
          }. Operations on it will fail until it answers.`,
          link: deploymentsPageLink('targets'),
          severity: 'high',
          topic: `deployments-target:${target.name}`,
          scope: `deployments-target:${target.name}:reachability`,
        },
  };
}

export function advisoryNotification(
  notice: AdvisoryNotice,
): NotificationSendOptions {
  const { plan } = notice;
  const what = notice.subject === 'chart' ? 'Chart' : 'Image';
  return {
    recipients: {
      type: 'entity',
      entityRef: plan.entityOwner ? [plan.entityOwner] : [],
    },
    payload: {
      title: `${what} ${notice.level} available for ${plan.releaseName}: ${notice.name} ${notice.available}`,
      description: `Release "${plan.releaseName}" in namespace "${plan.namespace}" on target "${plan.targetName}" runs ${notice.name} ${notice.running}; ${notice.available} is available. Open the plan to apply it.`,
      link: planLink(plan, 'deployments'),
      severity: notice.level === 'patch' ? 'high' : 'normal',
      topic: `deployments-advisory:${plan.id}`,
      scope: `deployments-advisory:${notice.advisoryId}`,
    },
  };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
