import { fireEvent, screen, waitFor } from '@testing-library/react';
import { PlanPod } from '../../api/DeploymentsApi';
import {
  draftPlan,
  fakeDeploymentsApi,
  PAYMENTS_API_REF,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { LogsTab } from './LogsTab';

const pods: PlanPod[] = [
  {
    name: 'hello-abc',
    namespace: 'team-a',
    phase: 'Running',
    ready: true,
    restarts: 0,
    workloads: ['Deployment/hello'],
    health: { healthy: true, message: 'Ready' },
    containers: [
      {
        name: 'init-config',
        init: true,
        ready: true,
        restartCount: 0,
        state: 'terminated',
        hasPrevious: false,
      },
      {
        name: 'hello',
        init: false,
        ready: true,
        restartCount: 0,
        state: 'running',
        hasPrevious: false,
      },
    ],
  },
  {
    name: 'hello-def',
    namespace: 'team-a',
    phase: 'Running',
    ready: true,
    restarts: 2,
    workloads: ['Deployment/hello'],
    health: { healthy: true, message: 'Ready' },
    containers: [
      {
        name: 'hello',
        init: false,
        ready: true,
        restartCount: 2,
        state: 'running',
        hasPrevious: true,
      },
    ],
  },
];

describe('LogsTab', () => {
  it('reads the first regular container, filters lines, and switches tail size', async () => {
    const api = fakeDeploymentsApi({
      listPlanPods: async () => ({ items: pods }),
      getPlanLogs: async () => 'GET / 200\nGET /health 200\nerror: boom\n',
    });
    await renderDeployments(<LogsTab entityRef={PAYMENTS_API_REF} />, { api });
    expect(await screen.findByText('3 line(s)')).toBeInTheDocument();
    expect(api.getPlanLogs).toHaveBeenCalledWith(draftPlan.id, {
      pod: 'hello-abc',
      container: 'hello',
      previous: undefined,
      tailLines: 500,
      all: undefined,
    });
    fireEvent.change(screen.getByTestId('logs-filter'), {
      target: { value: 'GET' },
    });
    expect(await screen.findByText('2 of 3 line(s) shown')).toBeInTheDocument();
    fireEvent.click(screen.getByLabelText('Hide matching lines'));
    expect(await screen.findByText('1 of 3 line(s) shown')).toBeInTheDocument();
    fireEvent.change(screen.getByTestId('logs-tail'), {
      target: { value: 'all' },
    });
    await waitFor(() =>
      expect(api.getPlanLogs).toHaveBeenLastCalledWith(
        draftPlan.id,
        expect.objectContaining({ all: true, tailLines: undefined }),
      ),
    );
  });

  it('offers the previous instance only for a restarted container', async () => {
    const api = fakeDeploymentsApi({
      listPlanPods: async () => ({ items: pods }),
      getPlanLogs: async () => 'line\n',
    });
    await renderDeployments(<LogsTab entityRef={PAYMENTS_API_REF} />, { api });
    await screen.findByText('1 line(s)');
    const previous = screen.getByLabelText('Previous instance');
    expect(previous).toBeDisabled();
    fireEvent.change(screen.getByTestId('logs-pod'), {
      target: { value: 'hello-def' },
    });
    await waitFor(() =>
      expect(screen.getByLabelText('Previous instance')).toBeEnabled(),
    );
    fireEvent.click(screen.getByLabelText('Previous instance'));
    await waitFor(() =>
      expect(api.getPlanLogs).toHaveBeenLastCalledWith(draftPlan.id, {
        pod: 'hello-def',
        container: 'hello',
        previous: true,
        tailLines: 500,
        all: undefined,
      }),
    );
    // A stopped instance cannot be followed.
    expect(screen.getByLabelText('Follow')).toBeDisabled();
  });

  it('follows the log as a stream, pauses, and stops the stream when unmounted', async () => {
    let signal: AbortSignal | undefined;
    let push: (chunk: string) => void = () => {};
    const api = fakeDeploymentsApi({
      listPlanPods: async () => ({ items: pods }),
      getPlanLogs: async () => 'old\n',
      followPlanLogs: (_id, _query, abort) => {
        signal = abort;
        const queue: string[] = [];
        let wake: (() => void) | undefined;
        push = chunk => {
          queue.push(chunk);
          wake?.();
        };
        const nextChunk = () =>
          new Promise<void>(resolve => {
            wake = resolve;
            abort.addEventListener('abort', () => resolve());
          });
        return (async function* stream() {
          while (!abort.aborted) {
            if (queue.length === 0) await nextChunk();
            while (queue.length) yield queue.shift()!;
          }
        })();
      },
    });
    const { rendered } = await renderDeployments(
      <LogsTab entityRef={PAYMENTS_API_REF} />,
      { api },
    );
    await screen.findByText('1 line(s)');
    fireEvent.click(screen.getByLabelText('Follow'));
    await waitFor(() => expect(api.followPlanLogs).toHaveBeenCalled());
    push('one\ntwo\n');
    expect(
      await screen.findByText('Following · 2 line(s)'),
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    push('three\n');
    expect(
      await screen.findByText('Following (paused) · 2 line(s)'),
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    expect(
      await screen.findByText('Following · 3 line(s)'),
    ).toBeInTheDocument();
    (await rendered).unmount();
    expect(signal?.aborted).toBe(true);
  });

  it('explains an empty release', async () => {
    await renderDeployments(<LogsTab entityRef={PAYMENTS_API_REF} />, {
      api: fakeDeploymentsApi(),
    });
    expect(
      await screen.findByText(`No pods for ${draftPlan.releaseName}`),
    ).toBeInTheDocument();
  });
});
