import {
  CodeSnippet,
  MarkdownContent,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { Chart } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import Typography from '@material-ui/core/Typography';
import { useEffect, useState } from 'react';
import { formatBytes, formatTime } from '../shared';

type DetailTab = 'overview' | 'readme' | 'values' | 'schema';

/** Props of {@link ChartDetailDialog}. */
export interface ChartDetailDialogProps {
  chart?: Chart;
  onClose: () => void;
}

/** A registered chart version: metadata, README, default values and schema. */
export function ChartDetailDialog(props: ChartDetailDialogProps) {
  const { chart } = props;
  const [tab, setTab] = useState<DetailTab>('overview');
  useEffect(() => setTab('overview'), [chart]);

  return (
    <Dialog
      open={chart !== undefined}
      onClose={props.onClose}
      maxWidth="md"
      fullWidth
    >
      <DialogTitle>
        {chart?.name} {chart?.version}
      </DialogTitle>
      <DialogContent>
        <Tabs
          value={tab}
          onChange={(_, value) => setTab(value)}
          indicatorColor="primary"
        >
          <Tab value="overview" label="Overview" />
          <Tab value="readme" label="README" />
          <Tab value="values" label="Default values" />
          <Tab value="schema" label="Values schema" />
        </Tabs>
        <Box mt={2}>
          {chart && tab === 'overview' && (
            <StructuredMetadataTable
              metadata={{
                reference: chart.reference,
                version: chart.version,
                'app version': chart.appVersion ?? '—',
                description: chart.description ?? '—',
                'chart digest': chart.chartDigest,
                'manifest digest': chart.manifestDigest ?? '—',
                'kubernetes version': chart.kubeVersion ?? 'any',
                dependencies: chart.dependencies.length
                  ? chart.dependencies.map(
                      d => `${d.name}${d.version ? ` ${d.version}` : ''}`,
                    )
                  : 'none',
                ...(chart.crds &&
                  chart.crds.length > 0 && {
                    'CRDs (not installed by the portal)': chart.crds.flatMap(
                      crd => crd.names,
                    ),
                  }),
                'archive size': formatBytes(chart.archiveSize),
                registered: `${formatTime(chart.registeredAt)} by ${
                  chart.registeredBy
                }`,
              }}
            />
          )}
          {chart &&
            tab === 'readme' &&
            (chart.readme ? (
              <MarkdownContent content={chart.readme} />
            ) : (
              <Typography variant="body2" color="textSecondary">
                The chart has no README.
              </Typography>
            ))}
          {chart &&
            tab === 'values' &&
            (chart.defaultValues?.trim() ? (
              <CodeSnippet
                text={chart.defaultValues}
                language="yaml"
                showCopyCodeButton
                showLineNumbers
              />
            ) : (
              <Typography variant="body2" color="textSecondary">
                The chart has no default values.
              </Typography>
            ))}
          {chart &&
            tab === 'schema' &&
            (chart.valuesSchema ? (
              <CodeSnippet
                text={JSON.stringify(chart.valuesSchema, null, 2)}
                language="json"
                showCopyCodeButton
              />
            ) : (
              <Typography variant="body2" color="textSecondary">
                The chart has no values.schema.json: values profiles for it are
                checked as YAML only, without a form.
              </Typography>
            ))}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
