import {
  DryRunObject,
  DryRunResult,
} from '@kubedeploy/plugin-deployments-common';
import Accordion from '@material-ui/core/Accordion';
import AccordionDetails from '@material-ui/core/AccordionDetails';
import AccordionSummary from '@material-ui/core/AccordionSummary';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Switch from '@material-ui/core/Switch';
import Typography from '@material-ui/core/Typography';
import ExpandMoreIcon from '@material-ui/icons/ExpandMore';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { useState } from 'react';
import { UnifiedDiff } from './UnifiedDiff';
import { ValuesChangePanel } from './ValuesChangePanel';

const CHANGE_COLOR: Record<DryRunObject['change'], string> = {
  added: '#2e7d32',
  changed: '#ed6c02',
  removed: '#d32f2f',
  unchanged: '#757575',
};

function ChangeChip(props: { change: DryRunObject['change'] }) {
  return (
    <Chip
      size="small"
      label={props.change}
      style={{
        backgroundColor: CHANGE_COLOR[props.change],
        color: '#fff',
        fontWeight: 'bold',
      }}
    />
  );
}

function ObjectPanel(props: { object: DryRunObject }) {
  const { object } = props;
  return (
    <Accordion TransitionProps={{ unmountOnExit: true }}>
      <AccordionSummary
        expandIcon={<ExpandMoreIcon />}
        aria-label={`${object.kind} ${object.name}`}
      >
        <Box
          display="flex"
          alignItems="center"
          style={{ gap: 8 }}
          flexWrap="wrap"
        >
          <ChangeChip change={object.change} />
          <Typography variant="body2">
            <strong>{object.kind}</strong> {object.name}
          </Typography>
          <Typography variant="caption" color="textSecondary">
            {object.namespace ?? 'cluster-scoped'} · {object.source}
          </Typography>
          {object.hook && object.hook.length > 0 && (
            <Chip
              size="small"
              variant="outlined"
              label={`hook: ${object.hook.join(', ')}`}
            />
          )}
        </Box>
      </AccordionSummary>
      <AccordionDetails style={{ display: 'block' }}>
        {object.diff ? (
          <>
            <Typography variant="subtitle2">
              Diff against what is deployed
            </Typography>
            <UnifiedDiff diff={object.diff} />
          </>
        ) : (
          <Typography variant="body2" color="textSecondary">
            {object.change === 'added'
              ? 'New object: nothing deployed to compare with.'
              : 'No differences.'}
          </Typography>
        )}
        {object.liveDiff && (
          <>
            <Typography variant="subtitle2" style={{ marginTop: 8 }}>
              Diff against the live object, as the API server would apply it
            </Typography>
            <UnifiedDiff diff={object.liveDiff} />
          </>
        )}
        {object.manifest && (
          <>
            <Typography variant="subtitle2" style={{ marginTop: 8 }}>
              Rendered manifest (from {object.source})
            </Typography>
            <pre
              style={{
                fontSize: 12,
                margin: 0,
                overflowX: 'auto',
                maxHeight: 480,
              }}
              data-testid="object-manifest"
            >
              {object.manifest}
            </pre>
          </>
        )}
      </AccordionDetails>
    </Accordion>
  );
}

/** A dry-run's findings: guardrail violations, warnings, and every object with its diff and manifest. */
export function DryRunResultView(props: { result: DryRunResult }) {
  const { result } = props;
  const [showUnchanged, setShowUnchanged] = useState(false);
  const counts = { added: 0, changed: 0, removed: 0, unchanged: 0 };
  for (const object of result.objects) counts[object.change]++;
  const shown = result.objects.filter(
    o => showUnchanged || o.change !== 'unchanged',
  );
  return (
    <Box data-testid="dry-run-result">
      {result.violations.length > 0 && (
        <Alert severity="error" style={{ marginBottom: 8 }}>
          <AlertTitle>
            {result.violations.length} guardrail violation(s): apply is blocked
          </AlertTitle>
          {result.violations.map(v => (
            <div key={`${v.object}:${v.reason}`}>
              <strong>{v.object}</strong>: {v.reason}
            </div>
          ))}
        </Alert>
      )}
      {result.warnings.length > 0 && (
        <Alert severity="warning" style={{ marginBottom: 8 }}>
          <AlertTitle>{result.warnings.length} warning(s)</AlertTitle>
          {result.warnings.map(w => (
            <div key={`${w.object}:${w.code}:${w.message}`}>
              <strong>{w.object}</strong>: {w.message} ({w.code})
            </div>
          ))}
        </Alert>
      )}
      {result.valuesChange && (
        <ValuesChangePanel change={result.valuesChange} />
      )}
      <Box display="flex" alignItems="center" style={{ gap: 16 }} mb={1}>
        <Typography variant="body2">
          {result.objects.length} object(s): {counts.added} added,{' '}
          {counts.changed} changed, {counts.removed} removed, {counts.unchanged}{' '}
          unchanged
        </Typography>
        <FormControlLabel
          control={
            <Switch
              checked={showUnchanged}
              onChange={e => setShowUnchanged(e.target.checked)}
              size="small"
            />
          }
          label="Show unchanged"
        />
      </Box>
      {shown.length === 0 && (
        <Typography variant="body2" color="textSecondary">
          Nothing changes: the release already matches this plan.
        </Typography>
      )}
      {shown.map(object => (
        <ObjectPanel key={object.key} object={object} />
      ))}
      {result.notes && (
        <Box mt={2}>
          <Typography variant="subtitle2">Chart notes</Typography>
          <pre style={{ fontSize: 12, whiteSpace: 'pre-wrap' }}>
            {result.notes}
          </pre>
        </Box>
      )}
    </Box>
  );
}
