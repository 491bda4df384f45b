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

  it('says when the API server interrupted a followed log and reconnects from the last line received', async () => {
    const queries: Array<Record<string, unknown>> = [];
    const streams = [
      [
        'one\ntwo\n',
        '\n[log stream interrupted: the API server stopped answering]\n',
      ],
      ['three\n'],
    ];
    const api = fakeDeploymentsApi({
      listPlanPods: async () => ({ items: pods }),
      getPlanLogs: async () => 'old\n',
      followPlanLogs: (_id, query, abort) => {
        queries.push({ ...query });
        const chunks = streams[queries.length - 1] ?? [];
        return (async function* stream() {
          for (const chunk of chunks) yield chunk;
          // The second stream stays open like a healthy follow.
          if (queries.length > 1) {
            await new Promise(resolve =>
              abort.addEventListener('abort', resolve),
            );
          }
        })();
      },
    });
    await renderDeployments(<LogsTab entityRef={PAYMENTS_API_REF} />, { api });
    await screen.findByText('1 line(s)');
    fireEvent.click(screen.getByLabelText('Follow'));

    expect(await screen.findByTestId('logs-interrupted')).toHaveTextContent(
      'The log stream was interrupted: the API server stopped answering',
    );
    expect(queries[0]).toMatchObject({ tailLines: 500 });
    fireEvent.click(screen.getByRole('button', { name: 'Reconnect' }));

    // Only what was written since; the lines already read stay.
    expect(
      await screen.findByText('Following · 5 line(s)'),
    ).toBeInTheDocument();
    expect(queries[1]).toMatchObject({ sinceSeconds: expect.any(Number) });
    expect(queries[1].tailLines).toBeUndefined();
    expect(queries[1].sinceSeconds).toBeLessThanOrEqual(3);
    expect(screen.getByText('three')).toBeInTheDocument();
    expect(screen.getByText('one')).toBeInTheDocument();
    expect(screen.queryByTestId('logs-interrupted')).not.toBeInTheDocument();
  });

  it('merges the logs of all pods of a workload: interleaved by time, prefixed, line numbers kept when searching', async () => {
    const logs: Record<string, string> = {
      'hello-abc':
        '2026-12-02T04:00:00Z GET / 200\n2026-12-02T04:00:02Z error: boom\n',
      'hello-def':
        '2026-12-02T04:00:01Z GET /health 200\n2026-12-02T04:00:03Z GET / 200\n',
    };
    const api = fakeDeploymentsApi({
      listPlanPods: async () => ({ items: pods }),
      getPlanLogs: async (_id, query) => logs[query.pod] ?? '',
    });
    await renderDeployments(<LogsTab entityRef={PAYMENTS_API_REF} />, { api });
    // One pod first, its lines as they come (with no time prefix asked).
    expect(await screen.findByText('2 line(s)')).toBeInTheDocument();
    fireEvent.change(await screen.findByTestId('logs-pod'), {
      target: { value: '*workload:Deployment/hello' },
    });
    expect(
      await screen.findByText('4 line(s) · 2 pod(s), interleaved by time'),
    ).toBeInTheDocument();
    for (const pod of ['hello-abc', 'hello-def']) {
      expect(api.getPlanLogs).toHaveBeenCalledWith(draftPlan.id, {
        pod,
        container: 'hello',
        previous: undefined,
        tailLines: 500,
        all: undefined,
        timestamps: true,
      });
    }
    const log = screen.getByRole('log', { name: 'Log lines' });
    const rows = () =>
      Array.from(log.querySelectorAll('[data-line]')).map(
        row => row.textContent,
      );
    expect(rows()).toEqual([
      '1hello-abc/helloGET / 200',
      '2hello-def/helloGET /health 200',
      '3hello-abc/helloerror: boom',
      '4hello-def/helloGET / 200',
    ]);
    fireEvent.change(screen.getByTestId('logs-filter'), {
      target: { value: 'GET /' },
    });
    expect(
      await screen.findByText(
        '3 of 4 line(s) shown · 2 pod(s), interleaved by time',
      ),
    ).toBeInTheDocument();
    // The numbers are those of the whole log.
    expect(rows().map(row => row!.match(/^\d+/)![0])).toEqual(['1', '2', '4']);
  });

  it('opens on the pod and container a link names, and reads at most five pods at once', async () => {
    const many: PlanPod[] = Array.from({ length: 7 }, (_, i) => ({
      ...pods[1],
      name: `hello-${i}`,
    }));
    const api = fakeDeploymentsApi({
      listPlanPods: async () => ({ items: [...pods, ...many] }),
      getPlanLogs: async () => 'line\n',
    });
    await renderDeployments(<LogsTab entityRef={PAYMENTS_API_REF} />, {
      api,
      initialRouteEntries: [
        `/?plan=${draftPlan.id}&pod=hello-def&container=hello`,
      ],
    });
    await waitFor(() =>
      expect(api.getPlanLogs).toHaveBeenCalledWith(
        draftPlan.id,
        expect.objectContaining({ pod: 'hello-def', container: 'hello' }),
      ),
    );
    expect(api.getPlanLogs).not.toHaveBeenCalledWith(
      draftPlan.id,
      expect.objectContaining({ pod: 'hello-abc' }),
    );
    fireEvent.change(screen.getByTestId('logs-pod'), {
      target: { value: '*all' },
    });
    expect(
      await screen.findByText(/Showing the first 5 of 9 pods/),
    ).toBeInTheDocument();
    expect(
      await screen.findByText('5 line(s) · 5 pod(s), interleaved by time'),
    ).toBeInTheDocument();
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
