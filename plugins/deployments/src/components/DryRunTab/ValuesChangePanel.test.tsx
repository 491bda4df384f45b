import { DryRunResult } from '@kubedeploy/plugin-deployments-common';
import { screen } from '@testing-library/react';
import { fakeDeploymentsApi } from '../../__testUtils__/fakeDeploymentsApi';
import { renderDeployments } from '../../__testUtils__/renderDeployments';
import { DryRunResultView } from './DryRunResultView';

const base: DryRunResult = {
  type: 'dry-run',
  passed: true,
  inputsHash: 'sha256:1',
  chartDigest: 'sha256:2',
  violations: [],
  warnings: [],
  objects: [],
};

describe('the values change of a dry-run', () => {
  it('shows the values diff and, on a chart move, the default-values diff', async () => {
    await renderDeployments(
      <DryRunResultView
        result={{
          ...base,
          valuesChange: {
            deployed: {
              revision: 2,
              chart: 'hello-0.1.0',
              chartVersion: '0.1.0',
              profileRevision: 2,
              actor: 'user:default/alice',
              recorded: true,
            },
            chartMove: {
              fromVersion: '0.1.0',
              toVersion: '0.2.0',
              defaultValuesDiff:
                '--- values.yaml\n+++ values.yaml\n@@ -1 +1 @@\n-debug: false\n+tracing:\n',
            },
            valuesDiff:
              '--- values\n+++ values\n@@ -1 +1 @@\n-greeting: one\n+greeting: two\n',
            notes: [],
          },
        }}
      />,
      { api: fakeDeploymentsApi() },
    );
    expect(await screen.findByTestId('values-change')).toHaveTextContent(
      'Values against the deployed revision 2 (chart 0.1.0, profile revision 2, applied by user:default/alice)',
    );
    expect(
      screen.getByText(/moves the release from chart version 0.1.0/),
    ).toHaveTextContent('0.1.0 to 0.2.0');
    expect(screen.getByTestId('values-diff')).toHaveTextContent(
      '+greeting: two',
    );
    expect(screen.getByTestId('default-values-diff')).toHaveTextContent(
      '-debug: false',
    );
  });

  it('says why the values could not be compared with a revision made outside the portal', async () => {
    await renderDeployments(
      <DryRunResultView
        result={{
          ...base,
          valuesChange: {
            deployed: { revision: 4, chart: 'hello-0.1.0', recorded: false },
            notes: [
              'Revision 4 was not made through the portal: its values are not known.',
            ],
          },
        }}
      />,
      { api: fakeDeploymentsApi() },
    );
    expect(
      await screen.findByText(/Revision 4 was not made through the portal/),
    ).toBeInTheDocument();
    expect(
      screen.queryByText('The profile values are the same as deployed.'),
    ).not.toBeInTheDocument();
  });

  it('is absent when nothing is deployed', async () => {
    await renderDeployments(<DryRunResultView result={base} />, {
      api: fakeDeploymentsApi(),
    });
    expect(screen.queryByTestId('values-change')).not.toBeInTheDocument();
  });

  it('says when the values are as deployed', async () => {
    await renderDeployments(
      <DryRunResultView
        result={{
          ...base,
          valuesChange: {
            deployed: { revision: 2, chart: 'hello-0.1.0', recorded: true },
            notes: [],
          },
        }}
      />,
      { api: fakeDeploymentsApi() },
    );
    expect(
      await screen.findByText('The profile values are the same as deployed.'),
    ).toBeInTheDocument();
  });
});
