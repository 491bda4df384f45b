import { ReleaseHistoryEntry } from '@kubedeploy/plugin-deployments-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  draftPlan,
  fakeDeploymentsApi,
} from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { PlanHistoryCard } from './PlanHistoryCard';

const history: ReleaseHistoryEntry[] = [
  {
    revision: 3,
    updated: '2026-12-02T10:00:00Z',
    status: 'deployed',
    chart: 'hello-0.1.0',
    description: 'Rollback to 1',
    actor: 'user:default/carol',
    planRevision: 2,
    chartVersion: '0.1.0',
    profileRevision: 1,
    rollbackOf: 1,
  },
  {
    revision: 2,
    updated: '2026-12-02T09:00:00Z',
    status: 'superseded',
    chart: 'hello-0.2.0',
    description: 'Upgrade complete',
    actor: 'user:default/alice',
    planRevision: 2,
    chartVersion: '0.2.0',
    profileRevision: 3,
  },
  {
    revision: 1,
    updated: '2026-12-02T08:00:00Z',
    status: 'superseded',
    chart: 'hello-0.1.0',
    description: 'Install complete',
    actor: 'user:default/alice',
    planRevision: 1,
    chartVersion: '0.1.0',
    profileRevision: 1,
  },
];

describe('PlanHistoryCard', () => {
  it('shows for each revision its chart, values revision and who applied it', async () => {
    await renderDeployments(
      <PlanHistoryCard
        plan={draftPlan}
        history={history}
        onRollback={() => {}}
      />,
      { api: fakeDeploymentsApi() },
    );
    const row = (await screen.findByText('Upgrade complete')).closest('tr')!;
    expect(row).toHaveTextContent('hello-0.2.0');
    expect(row).toHaveTextContent('profile revision 3');
    expect(row).toHaveTextContent('user:default/alice, plan revision 2');
    expect(screen.getByText('Rollback to 1').closest('tr')!).toHaveTextContent(
      'profile revision 1 (rollback to 1)',
    );
  });

  it('compares two revisions: values with secrets as markers, and the objects that differ', async () => {
    const api = fakeDeploymentsApi({
      getPlanHistoryDiff: async (_id, fromRevision, toRevision) => ({
        from: {
          revision: fromRevision,
          chart: 'hello-0.1.0',
          chartVersion: '0.1.0',
          profileRevision: 1,
          recorded: true,
        },
        to: {
          revision: toRevision,
          chart: 'hello-0.2.0',
          chartVersion: '0.2.0',
          profileRevision: 3,
          actor: 'user:default/alice',
          recorded: true,
        },
        valuesDiff:
          '--- values\trevision 1\n+++ values\trevision 2\n@@ -1,2 +1,2 @@\n-apiToken: (secret) (hmac-sha256:aaaaaaaaaaaa)\n+apiToken: (secret) (hmac-sha256:bbbbbbbbbbbb)\n-greeting: one\n+greeting: two\n',
        defaultValuesDiff:
          '--- values.yaml\thello 0.1.0\n+++ values.yaml\thello 0.2.0\n@@ -1 +1 @@\n-debug: false\n+tracing:\n',
        objects: [
          {
            key: 'v1/ConfigMap/payments',
            change: 'changed',
            diff: '--- a\n+++ b\n@@ -1 +1 @@\n-  greeting: one\n+  greeting: two\n',
          },
          { key: 'v1/Service/payments', change: 'unchanged' },
        ],
        notes: [],
      }),
    });
    await renderDeployments(
      <PlanHistoryCard
        plan={draftPlan}
        history={history}
        onRollback={() => {}}
      />,
      { api },
    );
    fireEvent.change(await screen.findByLabelText('From revision'), {
      target: { value: '1' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Compare' }));
    await waitFor(() =>
      expect(api.getPlanHistoryDiff).toHaveBeenCalledWith(draftPlan.id, 1, 3),
    );
    const dialog = await screen.findByTestId('revision-diff-dialog');
    const values = await within(dialog).findByTestId('history-values-diff');
    expect(values).toHaveTextContent('+greeting: two');
    expect(values).toHaveTextContent(
      '+apiToken: (secret) (hmac-sha256:bbbbbbbbbbbb)',
    );
    expect(dialog).toHaveTextContent(
      'To revision 3, chart 0.2.0, profile revision 3, by user:default/alice',
    );
    expect(dialog).toHaveTextContent('-debug: false');
    expect(dialog).toHaveTextContent('Rendered objects: 1 of 2 differ');
    expect(dialog).toHaveTextContent('changed v1/ConfigMap/payments');
    expect(dialog).not.toHaveTextContent('v1/Service/payments');
  });

  it('offers no comparison with a single revision', async () => {
    await renderDeployments(
      <PlanHistoryCard
        plan={draftPlan}
        history={[history[2]]}
        onRollback={() => {}}
      />,
      { api: fakeDeploymentsApi() },
    );
    await screen.findByText('Install complete');
    expect(
      screen.queryByRole('button', { name: 'Compare' }),
    ).not.toBeInTheDocument();
  });
});
