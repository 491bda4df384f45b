import { RolloutDiagnosis } from '@kubedeploy/plugin-deployments-common';
import { screen, within } from '@testing-library/react';
import {
  draftPlan,
  fakeDeploymentsApi,
  fakeOperation,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { OperationProgressCard } from './OperationProgressCard';

const ERROR =
  'helm upgrade of release "payments-api" in namespace "team-a" timed out after 15 s: the release\'s resources did not become ready in time';

const crashLoop: RolloutDiagnosis = {
  takenAt: '2026-11-23T12:01:04Z',
  pods: [
    {
      name: 'payments-api-5f4ccd446d-srdzk',
      phase: 'Running',
      ready: false,
      restarts: 4,
      healthy: false,
      health: 'container web: CrashLoopBackOff',
      containers: [
        {
          name: 'web',
          init: false,
          ready: false,
          restartCount: 4,
          state: 'waiting',
          reason: 'CrashLoopBackOff',
          message: 'back-off 1m20s restarting failed container=web',
          lastTermination: 'OOMKilled (exit code 137)',
        },
      ],
    },
  ],
  events: [
    {
      object: 'Pod/payments-api-5f4ccd446d-srdzk',
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container web',
      count: 4,
      lastSeen: '2026-11-23T12:01:03Z',
    },
  ],
  logs: [
    {
      pod: 'payments-api-5f4ccd446d-srdzk',
      container: 'web',
      previous: true,
      lines: [
        'level=info msg="starting" version=previous',
        'level=error msg="[redacted], exiting" code=137',
      ],
      truncated: false,
    },
  ],
  warnings: [],
};

function failedApply(diagnosis?: RolloutDiagnosis) {
  return fakeOperation({
    kind: 'apply',
    status: 'failed',
    error: ERROR,
    lineCount: 2,
    result: { type: 'apply', rolledBack: false, diagnosis },
  });
}

describe('OperationProgressCard', () => {
  it('shows why a failed apply failed: the pods, the newest events and the crashed container’s last lines, and the error once', async () => {
    const api = fakeDeploymentsApi({
      getOperation: async () => failedApply(crashLoop),
      listOperationLines: async () => ({
        items: [
          {
            seq: 1,
            at: '2026-11-23T12:01:00Z',
            text: 'helm upgrade --install',
          },
          {
            seq: 2,
            at: '2026-11-23T12:01:02Z',
            text: 'Pod payments-api-5f4ccd446d-srdzk: container web: CrashLoopBackOff, 4 restarts',
          },
        ],
      }),
    });
    await renderDeployments(
      <OperationProgressCard operationId="op" planId={draftPlan.id} />,
      { api },
    );
    const diagnosis = await screen.findByTestId('rollout-diagnosis');
    const pods = within(
      within(diagnosis).getByRole('table', { name: 'Pods of the release' }),
    );
    expect(pods.getByText('payments-api-5f4ccd446d-srdzk')).toBeInTheDocument();
    expect(
      pods.getByText('container web: CrashLoopBackOff'),
    ).toBeInTheDocument();
    expect(
      pods.getByText(
        /web: waiting · CrashLoopBackOff · last ended OOMKilled \(exit code 137\)/,
      ),
    ).toBeInTheDocument();
    const events = within(
      within(diagnosis).getByRole('table', { name: 'Events of the release' }),
    );
    expect(events.getByText('BackOff')).toBeInTheDocument();
    expect(
      events.getByText('Back-off restarting failed container web (×4)'),
    ).toBeInTheDocument();
    expect(
      within(diagnosis).getByText(
        /Last lines of payments-api-5f4ccd446d-srdzk\/web \(the instance that crashed\)/,
      ),
    ).toBeInTheDocument();
    expect(
      within(diagnosis).getByText(/msg="\[redacted\], exiting" code=137/),
    ).toBeInTheDocument();
    // The error is said once, above the picture.
    expect(screen.getAllByText(ERROR)).toHaveLength(1);
    expect(screen.queryByText(/Helm revision —/)).not.toBeInTheDocument();
  });

  it('says so when no pod existed while helm waited', async () => {
    const api = fakeDeploymentsApi({
      getOperation: async () =>
        failedApply({ ...crashLoop, pods: [], events: [], logs: [] }),
    });
    await renderDeployments(
      <OperationProgressCard operationId="op" planId={draftPlan.id} />,
      { api },
    );
    expect(
      await screen.findByText(
        'No pod of the release existed while helm waited.',
      ),
    ).toBeInTheDocument();
  });

  it('keeps the revision line for an apply without a picture', async () => {
    const api = fakeDeploymentsApi({
      getOperation: async () =>
        fakeOperation({
          kind: 'apply',
          result: {
            type: 'apply',
            rolledBack: false,
            helmRevision: 3,
            helmStatus: 'deployed',
          },
        }),
    });
    await renderDeployments(
      <OperationProgressCard operationId="op" planId={draftPlan.id} />,
      { api },
    );
    expect(
      await screen.findByText(/Helm revision 3 \(deployed\)/),
    ).toBeInTheDocument();
    expect(screen.queryByTestId('rollout-diagnosis')).not.toBeInTheDocument();
  });
});
