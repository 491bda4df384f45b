import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import { draftPlan } from '../../__testUtils__/fakeDeploymentsApi';
import {
  applyBlockedReason,
  dryRunBlockedReason,
  preflightBlockedReason,
  rollbackBlockedReason,
  uninstallBlockedReason,
} from './gates';

const gate = (at: string, overrides: object = {}) => ({
  operationId: 'op',
  passed: true,
  inputsHash: 'sha256:a',
  planRevision: 1,
  at,
  ...overrides,
});

const ready: ReleasePlan = {
  ...draftPlan,
  status: 'preflight-passed',
  lastDryRun: gate('2026-11-23T12:00:00Z'),
  lastPreflight: gate('2026-11-23T12:01:00Z'),
};

describe('plan gates', () => {
  it('lets apply through only with a passed dry-run and a later preflight of the same inputs', () => {
    expect(applyBlockedReason(ready)).toBeUndefined();
    expect(applyBlockedReason(draftPlan)).toMatch(/run the dry-run first/);
    expect(
      applyBlockedReason({
        ...ready,
        lastDryRun: gate('x', { passed: false }),
      }),
    ).toMatch(/last dry-run failed/);
    expect(applyBlockedReason({ ...ready, lastPreflight: undefined })).toMatch(
      /needs a passed preflight/,
    );
    expect(
      applyBlockedReason({
        ...ready,
        lastPreflight: gate('2026-11-23T12:01:00Z', { passed: false }),
      }),
    ).toMatch(/last preflight failed/);
    expect(
      applyBlockedReason({
        ...ready,
        lastPreflight: gate('2026-11-23T12:01:00Z', { inputsHash: 'b' }),
      }),
    ).toMatch(/other inputs/);
    expect(
      applyBlockedReason({
        ...ready,
        lastPreflight: gate('2026-11-23T11:59:00Z'),
      }),
    ).toMatch(/dry-run ran again after the preflight/);
    expect(applyBlockedReason({ ...ready, revision: 2 })).toMatch(
      /edited since the dry-run \(revision 1 → 2\)/,
    );
  });

  it('blocks everything while an operation runs', () => {
    const busy = { ...ready, runningOperationId: 'op-1' };
    for (const reason of [
      dryRunBlockedReason(busy),
      preflightBlockedReason(busy),
      applyBlockedReason(busy),
      uninstallBlockedReason(busy, []),
    ]) {
      expect(reason).toMatch(/operation is running/);
    }
  });

  it('needs a passed dry-run of this revision before a preflight', () => {
    expect(preflightBlockedReason(draftPlan)).toMatch(/Run a dry-run first/);
    expect(preflightBlockedReason(ready)).toBeUndefined();
  });

  it('offers rollback to older revisions and uninstall of installed releases', () => {
    const deployed = { ...ready, status: 'deployed' as const };
    const history = [
      {
        revision: 2,
        updated: '',
        status: 'deployed',
        chart: 'hello-0.1.0',
        description: '',
      },
      {
        revision: 1,
        updated: '',
        status: 'superseded',
        chart: 'hello-0.1.0',
        description: '',
      },
    ];
    expect(rollbackBlockedReason(deployed, history[0], history)).toMatch(
      /current revision/,
    );
    expect(
      rollbackBlockedReason(deployed, history[1], history),
    ).toBeUndefined();
    expect(uninstallBlockedReason(deployed, history)).toBeUndefined();
    expect(uninstallBlockedReason(draftPlan, [])).toMatch(
      /Nothing is installed/,
    );
    expect(
      uninstallBlockedReason({ ...deployed, status: 'uninstalled' }, history),
    ).toMatch(/already uninstalled/);
  });
});
