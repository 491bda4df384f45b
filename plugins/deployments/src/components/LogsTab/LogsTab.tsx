import {
  EmptyState,
  InfoCard,
  LogViewer,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Switch from '@material-ui/core/Switch';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useEffect, useMemo, useRef, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef, PlanPod } from '../../api/DeploymentsApi';
import { usePlans } from '../../hooks/usePlans';
import { PlanPicker } from '../PlanTab/PlanPicker';
import { usePlanSelection } from '../PlanTab/usePlanSelection';
import { errorMessage } from '../shared';

/** Props of {@link LogsTab}. */
export interface LogsTabProps {
  entityRef: string;
}

/** The Logs tab of an entity: container logs of a chosen plan's release. */
export function LogsTab(props: LogsTabProps) {
  const { plans, loading, error } = usePlans(props.entityRef);
  const [selected, select] = usePlanSelection(plans);

  if (error && !plans) {
    return (
      <ResponseErrorPanel
        title="Could not list the release plans. Check that the deployments backend is running, then reload."
        error={error}
      />
    );
  }
  if (loading && !plans) return <Progress />;
  if (!plans || plans.length === 0 || !selected) {
    return (
      <EmptyState
        missing="content"
        title="No release plans for this component yet"
        description="Create and apply a release plan on the Plan tab; the logs of its pods show here."
      />
    );
  }
  return (
    <>
      <PlanPicker plans={plans} selected={selected} onSelect={select} />
      <Box mt={1}>
        <PlanLogs key={selected.id} plan={selected} />
      </Box>
    </>
  );
}

/** Lines kept in the browser; older ones fall off while following. */
const MAX_LINES = 10_000;
const TAIL_CHOICES = ['100', '500', '1000', 'all'] as const;
type Tail = (typeof TAIL_CHOICES)[number];

function keepLast(text: string): string {
  let newlines = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    if (text[i] === '\n' && ++newlines > MAX_LINES) return text.slice(i + 1);
  }
  return text;
}

function PlanLogs(props: { plan: ReleasePlan }) {
  const { plan } = props;
  const api = useApi(deploymentsApiRef);
  const pods = useAsyncRetry(
    async () => (await api.listPlanPods(plan.id)).items,
    [api, plan.id],
  );
  const [podName, setPodName] = useState('');
  const [containerName, setContainerName] = useState('');
  const [previous, setPrevious] = useState(false);
  const [tail, setTail] = useState<Tail>('500');
  const [follow, setFollow] = useState(false);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const [inverse, setInverse] = useState(false);
  const [text, setText] = useState('');
  const [state, setState] = useState<
    | { kind: 'idle' | 'loading' | 'following' | 'ended' }
    | { kind: 'failed'; message: string }
  >({ kind: 'idle' });
  const [reloads, setReloads] = useState(0);
  const held = useRef('');
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  const pod: PlanPod | undefined = pods.value?.find(p => p.name === podName);
  const container = pod?.containers.find(c => c.name === containerName);

  // Pick the first pod and its first regular container when nothing is chosen.
  useEffect(() => {
    const first = pods.value?.[0];
    if (!first || pods.value?.some(p => p.name === podName)) return;
    setPodName(first.name);
    const main = first.containers.find(c => !c.init) ?? first.containers[0];
    setContainerName(main?.name ?? '');
  }, [pods.value, podName]);

  const canPrevious = Boolean(container?.hasPrevious);
  const usePrevious = previous && canPrevious;

  useEffect(() => {
    if (!podName || !containerName) return undefined;
    const controller = new AbortController();
    const query = {
      pod: podName,
      container: containerName,
      previous: usePrevious || undefined,
      tailLines: tail === 'all' ? undefined : Number(tail),
      all: tail === 'all' || undefined,
    };
    setText('');
    held.current = '';
    const read = async () => {
      if (follow && !usePrevious) {
        setState({ kind: 'following' });
        let received = '';
        for await (const chunk of api.followPlanLogs(
          plan.id,
          query,
          controller.signal,
        )) {
          received = keepLast(received + chunk);
          if (pausedRef.current) {
            held.current = received;
          } else {
            setText(received);
          }
        }
        if (!controller.signal.aborted) {
          setText(received);
          setState({ kind: 'ended' });
        }
      } else {
        setState({ kind: 'loading' });
        const log = await api.getPlanLogs(plan.id, query);
        if (!controller.signal.aborted) {
          setText(keepLast(log));
          setState({ kind: 'idle' });
        }
      }
    };
    read().catch(error => {
      if (controller.signal.aborted) return;
      setState({ kind: 'failed', message: errorMessage(error) });
    });
    return () => controller.abort();
  }, [
    api,
    plan.id,
    podName,
    containerName,
    usePrevious,
    tail,
    follow,
    reloads,
  ]);

  // Resuming shows what arrived while paused.
  useEffect(() => {
    if (!paused && held.current) {
      setText(held.current);
      held.current = '';
    }
  }, [paused]);

  const shown = useMemo(() => {
    if (!filter) return text;
    const needle = filter.toLocaleLowerCase();
    return text
      .split('\n')
      .filter(line => line.toLocaleLowerCase().includes(needle) !== inverse)
      .join('\n');
  }, [text, filter, inverse]);
  const lineCount = text ? text.replace(/\n$/, '').split('\n').length : 0;
  const shownCount = shown ? shown.replace(/\n$/, '').split('\n').length : 0;

  const download = () => {
    const blob = new Blob([text], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${podName}-${containerName}${
      usePrevious ? '-previous' : ''
    }.log`;
    link.click();
    URL.revokeObjectURL(url);
  };

  if (pods.error) {
    return (
      <ResponseErrorPanel
        title="Could not list the release's pods. Check that the target is reachable and that you may read this plan's logs."
        error={pods.error}
      />
    );
  }
  if (pods.loading && !pods.value) return <Progress />;
  if (!pods.value || pods.value.length === 0) {
    return (
      <EmptyState
        missing="data"
        title={`No pods for ${plan.releaseName}`}
        description="The release is not installed, has no workloads or is scaled to zero. Apply the plan on the Plan tab, then come back."
        action={<Button onClick={pods.retry}>Check again</Button>}
      />
    );
  }

  return (
    <InfoCard title={`Logs of ${plan.releaseName}`}>
      <Box
        display="flex"
        flexWrap="wrap"
        alignItems="center"
        style={{ gap: 12 }}
      >
        <TextField
          id="deployments-logs-pod"
          label="Pod"
          select
          SelectProps={{ native: true }}
          value={podName}
          onChange={e => {
            setPodName(e.target.value);
            const next = pods.value?.find(p => p.name === e.target.value);
            const main =
              next?.containers.find(c => !c.init) ?? next?.containers[0];
            setContainerName(main?.name ?? '');
          }}
          margin="dense"
          inputProps={{ 'data-testid': 'logs-pod' }}
        >
          {pods.value.map(p => (
            <option key={p.name} value={p.name}>
              {p.name} ({p.phase}
              {p.restarts ? `, ${p.restarts} restart(s)` : ''})
            </option>
          ))}
        </TextField>
        <TextField
          id="deployments-logs-container"
          label="Container"
          select
          SelectProps={{ native: true }}
          value={containerName}
          onChange={e => setContainerName(e.target.value)}
          margin="dense"
          inputProps={{ 'data-testid': 'logs-container' }}
        >
          {pod?.containers.map(c => (
            <option key={c.name} value={c.name}>
              {c.init ? 'init: ' : ''}
              {c.name} ({c.state}
              {c.restartCount ? `, ${c.restartCount} restart(s)` : ''})
            </option>
          ))}
        </TextField>
        <TextField
          id="deployments-logs-tail"
          label="Lines"
          select
          SelectProps={{ native: true }}
          value={tail}
          onChange={e => setTail(e.target.value as Tail)}
          margin="dense"
          inputProps={{ 'data-testid': 'logs-tail' }}
        >
          {TAIL_CHOICES.map(choice => (
            <option key={choice} value={choice}>
              {choice === 'all' ? 'all' : `last ${choice}`}
            </option>
          ))}
        </TextField>
        <Tooltip
          title={
            canPrevious
              ? 'The log of the instance before the last restart'
              : 'The container has not restarted: there is no previous instance'
          }
        >
          <FormControlLabel
            control={
              <Switch
                checked={usePrevious}
                onChange={e => setPrevious(e.target.checked)}
                disabled={!canPrevious}
              />
            }
            label="Previous instance"
          />
        </Tooltip>
        <Tooltip
          title={
            usePrevious
              ? 'A previous instance has stopped; there is nothing to follow'
              : 'Stream new lines as they are written'
          }
        >
          <FormControlLabel
            control={
              <Switch
                checked={follow && !usePrevious}
                onChange={e => {
                  setFollow(e.target.checked);
                  setPaused(false);
                }}
                disabled={usePrevious}
              />
            }
            label="Follow"
          />
        </Tooltip>
        {follow && !usePrevious && (
          <Button
            size="small"
            variant="outlined"
            onClick={() => setPaused(!paused)}
          >
            {paused ? 'Resume' : 'Pause'}
          </Button>
        )}
        {!follow && (
          <Button size="small" onClick={() => setReloads(reloads + 1)}>
            Refresh
          </Button>
        )}
        <Button size="small" onClick={download} disabled={!text}>
          Download
        </Button>
      </Box>
      <Box display="flex" alignItems="center" style={{ gap: 12 }}>
        <TextField
          id="deployments-logs-filter"
          label="Filter lines"
          value={filter}
          onChange={e => setFilter(e.target.value)}
          margin="dense"
          style={{ minWidth: 280 }}
          inputProps={{ 'data-testid': 'logs-filter' }}
        />
        <FormControlLabel
          control={
            <Switch
              checked={inverse}
              onChange={e => setInverse(e.target.checked)}
            />
          }
          label="Hide matching lines"
        />
      </Box>
      {state.kind === 'failed' && (
        <Alert severity="error" style={{ marginTop: 8 }}>
          Could not read the log: {state.message}
        </Alert>
      )}
      <Typography
        variant="caption"
        color="textSecondary"
        component="p"
        data-testid="logs-status"
      >
        {state.kind === 'loading' && 'Reading the log…'}
        {state.kind === 'following' &&
          (paused ? 'Following (paused) · ' : 'Following · ')}
        {state.kind === 'ended' && 'The stream ended · '}
        {state.kind !== 'loading' &&
          (filter
            ? `${shownCount} of ${lineCount} line(s) shown`
            : `${lineCount} line(s)`)}
      </Typography>
      <Box height={480} mt={1} data-testid="logs-viewer">
        {text ? (
          <LogViewer text={shown} />
        ) : (
          state.kind !== 'loading' &&
          state.kind !== 'failed' && (
            <Typography variant="body2" color="textSecondary">
              {state.kind === 'following'
                ? 'Waiting for the container to write…'
                : 'The container has not written anything yet.'}
            </Typography>
          )
        )}
      </Box>
    </InfoCard>
  );
}
