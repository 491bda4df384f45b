import { mockServices } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  ConditionalPolicyDecision,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { ChangeWindowSettings } from '@kubedeploy/plugin-deployments-common';
import { ChangeRequest, OperationCaller } from '../operations/changeGates';
import { ResourceAuthorizer } from '../permissions/ResourceAuthorizer';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { storedPlan } from '../__testUtils__/planFixtures';
import { ChangeWindowGate } from './ChangeWindowGate';

/** Weekdays 09:00–17:00 Berlin time. */
const OFFICE_HOURS: ChangeWindowSettings = {
  timeZone: 'Europe/Berlin',
  windows: [{ cron: '0 9 * * 1-5', durationMinutes: 480 }],
  freezes: [],
};
/** Friday 15 January 2027, 20:00 CET: closed until Monday 09:00. */
const FRIDAY_EVENING = new Date('2027-01-15T19:00:00Z');
/** Tuesday 12 January 2027, 10:00 CET. */
const TUESDAY_MORNING = new Date('2027-01-12T09:00:00Z');

const ALICE = 'user:default/alice';

function target(changeWindows?: ChangeWindowSettings): StoredTarget {
  return {
    id: 'target-prod',
    name: 'prod',
    displayName: 'Production',
    apiServerUrl: 'https://prod.example.com',
    authKind: 'token',
    credentialsVersion: 1,
    allowedNamespaces: ['team-a'],
    allowedClusterScopedKinds: [],
    allowObjectsInOtherAllowedNamespaces: false,
    allowInsecureTls: false,
    production: true,
    namespaceOwners: [],
    requireApproval: false,
    changeWindows,
    revision: 1,
    createdAt: '2027-01-01T00:00:00Z',
    createdBy: 'test',
    updatedAt: '2027-01-01T00:00:00Z',
    updatedBy: 'test',
  };
}

function changeRequest(
  overrideReason?: string,
  changeWindows: ChangeWindowSettings = OFFICE_HOURS,
): ChangeRequest {
  const caller: OperationCaller = {
    actor: ALICE,
    credentials: {
      $$type: '@backstage/BackstageCredentials',
      principal: { type: 'user', userEntityRef: ALICE },
    },
    overrideReason,
  };
  return {
    kind: 'apply',
    plan: storedPlan({
      id: 'plan-1',
      entityRef: 'component:default/payments-api',
      releaseName: 'payments',
      targetId: 'target-prod',
      targetName: 'prod',
    }),
    target: target(changeWindows),
    caller,
  };
}

/** A gate at `now` whose permission decision on the override is `decision`. */
function createGate(now: Date, decision: PolicyDecision) {
  /** The permissions the gate asked about. */
  const asked: string[] = [];
  const permissions = mockServices.permissions.mock({
    authorizeConditional: async requests => {
      asked.push(...requests.map(r => r.permission.name));
      return requests.map(() => decision);
    },
  });
  const recordOutcome = jest.fn(async () => {});
  const gate = ChangeWindowGate.create({
    authorizer: ResourceAuthorizer.create({
      permissions,
      logger: mockServices.logger.mock(),
    }),
    audit: { recordOutcome },
    now: () => now,
  });
  return { gate, asked, recordOutcome };
}

const ALLOW: PolicyDecision = { result: AuthorizeResult.ALLOW };
const DENY: PolicyDecision = { result: AuthorizeResult.DENY };

describe('ChangeWindowGate', () => {
  it('admits inside the window without asking for an override', async () => {
    const { gate, asked, recordOutcome } = createGate(TUESDAY_MORNING, DENY);
    const admission = await gate.admit(changeRequest());
    await admission.started('op-1');
    expect(asked).toEqual([]);
    expect(recordOutcome).not.toHaveBeenCalled();
  });

  it('admits targets without change windows at any time', async () => {
    const { gate } = createGate(FRIDAY_EVENING, DENY);
    await expect(
      gate.admit({ ...changeRequest(), target: target(undefined) }),
    ).resolves.toBeDefined();
  });

  it('refuses outside the window, saying when it opens next', async () => {
    const { gate } = createGate(FRIDAY_EVENING, ALLOW);
    await expect(gate.admit(changeRequest())).rejects.toMatchObject({
      name: 'ConflictError',
      message:
        'Target prod accepts changes only in its change windows; it is closed (outside every change window) and next opens at 2027-01-18T09:00+01:00 (Europe/Berlin). An emergency override needs deployments.change-window.override and a reason.',
    });
  });

  it('refuses during a freeze with the freeze reason', async () => {
    const { gate } = createGate(TUESDAY_MORNING, ALLOW);
    const frozen: ChangeWindowSettings = {
      ...OFFICE_HOURS,
      freezes: [
        {
          start: '2027-01-11T00:00:00+01:00',
          end: '2027-01-13T12:00:00+01:00',
          reason: 'quarterly audit',
        },
      ],
    };
    await expect(
      gate.admit(changeRequest(undefined, frozen)),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining(
        'it is closed (quarterly audit) and next opens at 2027-01-13T12:00+01:00 (Europe/Berlin)',
      ),
    });
  });

  it('refuses an override without a reason', async () => {
    const { gate, asked } = createGate(FRIDAY_EVENING, ALLOW);
    for (const reason of [undefined, '', '   ']) {
      await expect(gate.admit(changeRequest(reason))).rejects.toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining(
          'An emergency override needs deployments.change-window.override and a reason',
        ),
      });
    }
    expect(asked).toEqual([]);
  });

  it('refuses an override with a reason but without the permission, saying so', async () => {
    const { gate, asked, recordOutcome } = createGate(FRIDAY_EVENING, DENY);
    await expect(
      gate.admit(changeRequest('payment outage INC-4711')),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(
        /next opens at 2027-01-18T09:00\+01:00 \(Europe\/Berlin\)\. The emergency override was refused: user:default\/alice does not hold deployments\.change-window\.override on release plan plan-1/,
      ),
    });
    expect(asked).toEqual(['deployments.change-window.override']);
    expect(recordOutcome).not.toHaveBeenCalled();
  });

  it('evaluates conditional override decisions on the plan', async () => {
    const onlyStaging: ConditionalPolicyDecision = {
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'deployments',
      resourceType: 'deployments-plan',
      conditions: {
        rule: 'HAS_PLAN_TARGET',
        resourceType: 'deployments-plan',
        params: { targets: ['staging'] },
      },
    };
    const { gate } = createGate(FRIDAY_EVENING, onlyStaging);
    await expect(
      gate.admit(changeRequest('payment outage INC-4711')),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
  });

  it('admits an override with a reason and the permission, audited as critical once the operation starts', async () => {
    const { gate, recordOutcome } = createGate(FRIDAY_EVENING, ALLOW);
    const admission = await gate.admit(
      changeRequest('  payment outage INC-4711 '),
    );
    expect(recordOutcome).not.toHaveBeenCalled();
    await admission.started('op-42');
    expect(recordOutcome).toHaveBeenCalledTimes(1);
    expect(recordOutcome).toHaveBeenCalledWith({
      eventId: 'change-window-override',
      severityLevel: 'critical',
      actor: ALICE,
      subject: 'plan-1',
      outcome: 'succeeded',
      meta: {
        target: 'prod',
        kind: 'apply',
        reason: 'payment outage INC-4711',
        operationId: 'op-42',
        window: {
          open: false,
          reason: 'outside every change window',
          nextOpenAt: '2027-01-18T08:00:00.000Z',
        },
      },
    });
  });

  it('records nothing when the admitted change did not start', async () => {
    const { gate, recordOutcome } = createGate(FRIDAY_EVENING, ALLOW);
    const admission = await gate.admit(changeRequest('payment outage'));
    await admission.abandoned();
    expect(recordOutcome).not.toHaveBeenCalled();
  });
});
