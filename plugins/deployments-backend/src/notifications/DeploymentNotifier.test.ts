import { mockServices } from '@backstage/backend-test-utils';
import { NotificationSendOptions } from '@backstage/plugin-notifications-node';
import { SignalPayload } from '@backstage/plugin-signals-node';
import { StoredOperation } from '../operations/DatabaseOperationStore';
import { storedPlan } from '../__testUtils__/planFixtures';
import {
  advisoryNotification,
  changeOutcomeOf,
  DeploymentNotifier,
  keyringSealedNotification,
  operationNotification,
  targetReachabilityNotification,
} from './DeploymentNotifier';
import { NotificationSender } from './NotificationSender';

const plan = storedPlan({
  id: 'plan-1',
  entityRef: 'component:default/payments-api',
  entityOwner: 'group:default/payments',
  releaseName: 'payments',
});

function operation(fields: Partial<StoredOperation> = {}): StoredOperation {
  return {
    id: 'op-1',
    planId: 'plan-1',
    planRevision: 3,
    kind: 'apply',
    status: 'failed',
    actor: 'user:default/alice',
    targetId: 'target-dev',
    targetName: 'dev',
    namespace: 'team-a',
    releaseName: 'payments',
    lineCount: 0,
    runnerId: 'r',
    heartbeatAt: '2026-12-02T00:00:00.000Z',
    cancelRequested: false,
    createdAt: '2026-12-02T00:00:00.000Z',
    error: 'timed out waiting for the condition',
    ...fields,
  };
}

function recipientsOf(options: NotificationSendOptions): string[] {
  return options.recipients.type === 'entity'
    ? [options.recipients.entityRef].flat()
    : [];
}

describe('operation notifications', () => {
  it('go to the actor and the entity owner, linking to the plan on its tab', () => {
    const sent = operationNotification(operation(), 'failed', plan);
    expect(recipientsOf(sent)).toEqual([
      'user:default/alice',
      'group:default/payments',
    ]);
    expect(sent.payload).toMatchObject({
      title: 'Apply of payments failed',
      link: '/catalog/default/component/payments-api/deployments?plan=plan-1',
      severity: 'high',
      topic: 'deployments-release:plan-1',
      scope: 'deployments-release:plan-1:apply',
    });
    expect(sent.payload.description).toContain(
      'timed out waiting for the condition',
    );
  });

  it('keep one topic per plan and one scope per kind, so repeats update', () => {
    const apply = operationNotification(operation(), 'succeeded', plan);
    const rollback = operationNotification(
      operation({ kind: 'rollback', status: 'succeeded' }),
      'succeeded',
      plan,
    );
    expect(apply.payload.topic).toBe(rollback.payload.topic);
    expect(apply.payload.scope).not.toBe(rollback.payload.scope);
    expect(
      operationNotification(operation({ id: 'op-2' }), 'failed', plan).payload
        .scope,
    ).toBe(apply.payload.scope);
  });

  it('tell the actor alone, with the operations page, when the plan is gone', () => {
    const sent = operationNotification(
      operation({ kind: 'uninstall', status: 'succeeded' }),
      'succeeded',
      undefined,
    );
    expect(recipientsOf(sent)).toEqual(['user:default/alice']);
    expect(sent.payload.link).toBe('/deployments/operations');
  });

  it('name the outcome: rolled back by Helm, interrupted, cancelled', () => {
    expect(
      changeOutcomeOf({
        status: 'failed',
        result: { type: 'apply', rolledBack: true },
      }),
    ).toBe('rolled-back');
    expect(changeOutcomeOf({ status: 'failed' })).toBe('failed');
    expect(changeOutcomeOf({ status: 'interrupted' })).toBe('interrupted');
    expect(changeOutcomeOf({ status: 'cancelled' })).toBe('cancelled');
    expect(changeOutcomeOf({ status: 'running' })).toBeUndefined();
    expect(
      operationNotification(operation(), 'rolled-back', plan).payload.title,
    ).toBe('Apply of payments failed and was rolled back by Helm');
  });
});

describe('platform notifications', () => {
  const platform = ['group:default/platform'];

  it('say the keyring is sealed, with the keyring page', () => {
    const sent = keyringSealedNotification(platform, 'ABCD');
    expect(recipientsOf(sent)).toEqual(platform);
    expect(sent.payload).toMatchObject({
      link: '/deployments/keyring',
      severity: 'critical',
      topic: 'deployments-keyring',
      scope: 'deployments-keyring:sealed',
    });
  });

  it('say a target is unreachable, and update the same notification when it answers again', () => {
    const down = targetReachabilityNotification(platform, {
      target: { name: 'prod', owner: 'group:default/sre' },
      reachable: false,
      error: 'connect ECONNREFUSED',
    });
    const up = targetReachabilityNotification(platform, {
      target: { name: 'prod', owner: 'group:default/sre' },
      reachable: true,
    });
    expect(recipientsOf(down)).toEqual([
      'group:default/platform',
      'group:default/sre',
    ]);
    expect(down.payload).toMatchObject({
      title: 'Target prod is unreachable',
      link: '/deployments/targets',
      topic: 'deployments-target:prod',
    });
    expect(down.payload.description).toContain('ECONNREFUSED');
    expect(up.payload.scope).toBe(down.payload.scope);
    expect(up.payload.title).toBe('Target prod is reachable again');
  });
});

describe('advisory notifications', () => {
  it('go to the entity owner, once per advisory (scope), linking to the plan', () => {
    const sent = advisoryNotification({
      advisoryId: 'adv-1',
      plan,
      subject: 'image',
      name: 'registry.local/app',
      running: '1.2.3',
      available: '1.2.4',
      level: 'patch',
    });
    expect(recipientsOf(sent)).toEqual(['group:default/payments']);
    expect(sent.payload).toMatchObject({
      title: 'Image patch available for payments: registry.local/app 1.2.4',
      link: '/catalog/default/component/payments-api/deployments?plan=plan-1',
      topic: 'deployments-advisory:plan-1',
      scope: 'deployments-advisory:adv-1',
    });
  });
});

describe('DeploymentNotifier', () => {
  function create() {
    const sent: NotificationSendOptions[] = [];
    const signals: SignalPayload[] = [];
    const notifier = DeploymentNotifier.create({
      sender: NotificationSender.create({
        notifications: { send: async options => void sent.push(options) },
        logger: mockServices.logger.mock(),
      }),
      signals: { publish: async signal => void signals.push(signal) },
      plans: { get: async id => (id === plan.id ? plan : undefined) },
      operations: { get: async () => operation({ status: 'running' }) },
      platformRefs: ['group:default/platform'],
      logger: mockServices.logger.mock(),
    });
    return { notifier, sent, signals };
  }

  it('sends nothing for dry-runs and preflights', async () => {
    const { notifier, sent } = create();
    await notifier.operationFinished(operation({ kind: 'dry-run' }));
    await notifier.operationFinished(operation({ kind: 'preflight' }));
    expect(sent).toEqual([]);
    await notifier.operationFinished(operation());
    expect(sent).toHaveLength(1);
  });

  it('tells of an operation the sweep found interrupted, like any other outcome', async () => {
    const { notifier, sent } = create();
    await notifier.operationFinished(
      operation({
        kind: 'rollback',
        status: 'interrupted',
        error: 'the backend running it stopped',
      }),
    );
    expect(sent).toHaveLength(1);
    expect(sent[0].payload).toMatchObject({
      title: 'Rollback of payments was interrupted',
      scope: 'deployments-release:plan-1:rollback',
      severity: 'high',
    });
    expect(sent[0].payload.description).toContain('roll back or apply again');
  });

  it('addresses operation signals to the actor, the owner and the platform group, never broadcast', async () => {
    const { notifier, signals } = create();
    notifier.publishOperationUpdate({
      id: 'op-1',
      planId: 'plan-1',
      status: 'running',
      lineCount: 1,
    });
    notifier.publishOperationUpdate({
      id: 'op-1',
      planId: 'plan-1',
      status: 'failed',
      lineCount: 2,
    });
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(signals.map(s => s.recipients)).toEqual([
      {
        type: 'user',
        entityRef: [
          'user:default/alice',
          'group:default/payments',
          'group:default/platform',
        ],
      },
      {
        type: 'user',
        entityRef: [
          'user:default/alice',
          'group:default/payments',
          'group:default/platform',
        ],
      },
    ]);
    expect(signals[1]).toMatchObject({
      channel: 'deployments:operations',
      message: { id: 'op-1', status: 'failed' },
    });
  });

  it('does not fail the change when the notifications backend does not answer', async () => {
    const logger = mockServices.logger.mock();
    const sender = NotificationSender.create({
      notifications: {
        send: async () => {
          throw new Error('connect ECONNREFUSED');
        },
      },
      logger,
    });
    await expect(
      sender.send(operationNotification(operation(), 'failed', plan)),
    ).resolves.toBe(false);
    expect(logger.warn).toHaveBeenCalled();
  });
});
