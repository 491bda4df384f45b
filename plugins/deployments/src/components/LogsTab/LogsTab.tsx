import {
  EmptyState,
  InfoCard,
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
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef, PlanPod } from '../../api/DeploymentsApi';
import { usePlans } from '../../hooks/usePlans';
import { PlanPicker } from '../PlanTab/PlanPicker';
import { usePlanSelection } from '../PlanTab/usePlanSelection';
import { errorMessage } from '../shared';
import {
  filterLines,
  LogLine,
  mergeByTime,
  numberLines,
  parseTimedLines,
  splitLines,
  toText,
} from './logLines';

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
/** Lines drawn at once; the rest is in the download. */
const MAX_RENDERED = 2_000;
/**
 * Pods read together. Each followed pod is one log stream, and streams
 * count against the user's cap on the server (5 unless configured).
 */
export const MAX_MERGED_PODS = 5;
const TAIL_CHOICES = ['100', '500', '1000', 'all'] as const;
type Tail = (typeof TAIL_CHOICES)[number];
const ALL_PODS = '*all';
const WORKLOAD_PREFIX = '*workload:';

function keepLast<T>(lines: T[]): T[] {
  return lines.length > MAX_LINES ? lines.slice(-MAX_LINES) : lines;
}

function mainContainer(pod: PlanPod | undefined): string {
  return (pod?.containers.find(c => !c.init) ?? pod?.containers[0])?.name ?? '';
}

/** The pods a selection names: one pod, all, or those of a workload. */
function podsOf(pods: PlanPod[], selection: string): PlanPod[] {
  if (selection === ALL_PODS) return pods;
  if (selection.startsWith(WORKLOAD_PREFIX)) {
    const workload = selection.slice(WORKLOAD_PREFIX.length);
    return pods.filter(p => p.workloads.includes(workload));
  }
  return pods.filter(p => p.name === selection);
}

/** The last line the backend writes when the API server cut or stopped a followed log. */
const INTERRUPTED = /^\[log stream interrupted: (.*)\]$/;

/** Appends complete lines of a followed stream; keeps the unfinished rest. */
function takeLines(buffer: { rest: string }, chunk: string): string[] {
  const text = buffer.rest + chunk;
  const end = text.lastIndexOf('\n');
  if (end < 0) {
    buffer.rest = text;
    return [];
  }
  buffer.rest = text.slice(end + 1);
  return text.slice(0, end).split('\n');
}

function PlanLogs(props: { plan: ReleasePlan }) {
  const { plan } = props;
  const api = useApi(deploymentsApiRef);
  const [params] = useSearchParams();
  const pods = useAsyncRetry(
    async () => (await api.listPlanPods(plan.id)).items,
    [api, plan.id],
  );
  const [selection, setSelection] = useState(params.get('pod') ?? '');
  const [containerName, setContainerName] = useState(
    params.get('container') ?? '',
  );
  const [previous, setPrevious] = useState(false);
  const [tail, setTail] = useState<Tail>('500');
  const [follow, setFollow] = useState(false);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const [inverse, setInverse] = useState(false);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<
    | { kind: 'idle' | 'loading' | 'following' | 'ended' }
    | { kind: 'failed'; message: string }
    | { kind: 'interrupted'; reason: string; lastDataAt: number }
  >({ kind: 'idle' });
  const [reloads, setReloads] = useState(0);
  // A reconnect follows on from the lines already shown, asking only for
  // what was written since the last chunk arrived (plus a second).
  const resumeFrom = useRef<
    { sinceSeconds: number; lines: LogLine[] } | undefined
  >();
  const held = useRef<LogLine[] | undefined>();
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  const merged =
    selection === ALL_PODS || selection.startsWith(WORKLOAD_PREFIX);
  const chosen = useMemo(
    () => podsOf(pods.value ?? [], selection),
    [pods.value, selection],
  );
  const readPods = chosen.slice(0, MAX_MERGED_PODS);
  const pod: PlanPod | undefined = merged ? undefined : chosen[0];
  const container = pod?.containers.find(c => c.name === containerName);
  const workloads = useMemo(
    () => [...new Set((pods.value ?? []).flatMap(p => p.workloads))].sort(),
    [pods.value],
  );
  const mergedContainers = useMemo(
    () =>
      [...new Set(readPods.flatMap(p => p.containers.map(c => c.name)))].sort(),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [chosen],
  );

  // Pick the first pod and its first regular container when nothing (or
  // nothing that exists) is chosen.
  useEffect(() => {
    const list = pods.value;
    if (!list?.length) return;
    if (podsOf(list, selection).length > 0) {
      const only = podsOf(list, selection)[0];
      if (
        selection !== ALL_PODS &&
        !selection.startsWith(WORKLOAD_PREFIX) &&
        !only.containers.some(c => c.name === containerName)
      ) {
        setContainerName(mainContainer(only));
      }
      return;
    }
    setSelection(list[0].name);
    setContainerName(mainContainer(list[0]));
  }, [pods.value, selection, containerName]);

  const canPrevious = !merged && Boolean(container?.hasPrevious);
  const usePrevious = previous && canPrevious;
  const readKey = readPods.map(p => `${p.name}/${containerName}`).join(',');

  useEffect(() => {
    if (readPods.length === 0 || (!merged && !containerName)) {
      return undefined;
    }
    const controller = new AbortController();
    const resume = resumeFrom.current;
    resumeFrom.current = undefined;
    const sources = readPods.map(p => {
      const name =
        merged && !p.containers.some(c => c.name === containerName)
          ? mainContainer(p)
          : containerName;
      return {
        source: `${p.name}/${name}`,
        query: {
          pod: p.name,
          container: name,
          previous: usePrevious || undefined,
          ...(resume
            ? { sinceSeconds: resume.sinceSeconds }
            : {
                tailLines: tail === 'all' ? undefined : Number(tail),
                all: tail === 'all' || undefined,
              }),
          ...(merged && { timestamps: true }),
        },
      };
    });
    setLines(resume?.lines ?? []);
    held.current = undefined;
    let shown: LogLine[] = resume?.lines ?? [];
    const show = (next: LogLine[]) => {
      shown = keepLast(next);
      if (pausedRef.current) {
        held.current = shown;
      } else {
        setLines(shown);
      }
    };
    const readOnce = async () => {
      setState({ kind: 'loading' });
      const texts = await Promise.all(
        sources.map(({ query }) => api.getPlanLogs(plan.id, query)),
      );
      if (controller.signal.aborted) return;
      setLines(
        keepLast(
          merged
            ? mergeByTime(
                texts.map((text, i) =>
                  parseTimedLines(text, sources[i].source),
                ),
              )
            : numberLines(splitLines(text0(texts))),
        ),
      );
      setState({ kind: 'idle' });
    };
    const followAll = async () => {
      setState({ kind: 'following' });
      let count = shown.length > 0 ? shown[shown.length - 1].n : 0;
      let interruption: { reason: string; lastDataAt: number } | undefined;
      await Promise.all(
        sources.map(async ({ source, query }) => {
          const buffer = { rest: '' };
          let lastDataAt = Date.now();
          let lastLine = '';
          for await (const chunk of api.followPlanLogs(
            plan.id,
            query,
            controller.signal,
          )) {
            lastDataAt = Date.now();
            const fresh: LogLine[] = [];
            for (const line of takeLines(buffer, chunk)) {
              count += 1;
              lastLine = line;
              if (merged) {
                const [timed] = parseTimedLines(line, source);
                fresh.push({ n: count, text: timed.text, source });
              } else {
                fresh.push({ n: count, text: line });
              }
            }
            if (fresh.length > 0) show([...shown, ...fresh]);
          }
          if (buffer.rest) {
            count += 1;
            lastLine = buffer.rest;
            show([
              ...shown,
              merged
                ? { n: count, source, text: buffer.rest }
                : { n: count, text: buffer.rest },
            ]);
          }
          const cut = INTERRUPTED.exec(lastLine.trim());
          if (cut && !interruption) {
            interruption = { reason: cut[1], lastDataAt };
          }
        }),
      );
      if (!controller.signal.aborted) {
        setLines(shown);
        setState(
          interruption
            ? { kind: 'interrupted', ...interruption }
            : { kind: 'ended' },
        );
      }
    };
    (follow && !usePrevious ? followAll() : readOnce()).catch(error => {
      if (controller.signal.aborted) return;
      setState({ kind: 'failed', message: errorMessage(error) });
      // One pod's stream failed (e.g. the user's stream cap): the others
      // stop too, freeing their slots.
      controller.abort();
    });
    return () => controller.abort();
    // readKey names the pods and containers read.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, plan.id, readKey, merged, usePrevious, tail, follow, reloads]);

  // Resuming shows what arrived while paused.
  useEffect(() => {
    if (!paused && held.current) {
      setLines(held.current);
      held.current = undefined;
    }
  }, [paused]);

  const shownLines = useMemo(
    () => filterLines(lines, filter, inverse),
    [lines, filter, inverse],
  );
  const lineCount = lines.length;
  const shownCount = shownLines.length;

  const download = () => {
    const blob = new Blob([toText(lines)], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = merged
      ? `${plan.releaseName}-${readPods.length}-pods.log`
      : `${selection}-${containerName}${usePrevious ? '-previous' : ''}.log`;
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
          value={selection}
          onChange={e => {
            const next = e.target.value;
            setSelection(next);
            const first = podsOf(pods.value ?? [], next)[0];
            setContainerName(
              next === ALL_PODS || next.startsWith(WORKLOAD_PREFIX)
                ? ''
                : mainContainer(first),
            );
          }}
          margin="dense"
          inputProps={{ 'data-testid': 'logs-pod' }}
        >
          {pods.value.length > 1 && (
            <option value={ALL_PODS}>
              All pods ({pods.value.length}), merged
            </option>
          )}
          {workloads.map(workload => (
            <option key={workload} value={`${WORKLOAD_PREFIX}${workload}`}>
              All pods of {workload} (
              {pods.value!.filter(p => p.workloads.includes(workload)).length}
              ), merged
            </option>
          ))}
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
          // The merged view's empty choice has text: the label must not cover it.
          InputLabelProps={{ shrink: true }}
          inputProps={{ 'data-testid': 'logs-container' }}
        >
          {merged && <option value="">each pod's main container</option>}
          {merged &&
            mergedContainers.map(name => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
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
              : 'The container has not restarted (or several pods are shown): there is no previous instance to read'
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
        <Button size="small" onClick={download} disabled={lineCount === 0}>
          Download
        </Button>
      </Box>
      <Box display="flex" alignItems="center" style={{ gap: 12 }}>
        <TextField
          id="deployments-logs-filter"
          label="Search lines"
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
      {merged && chosen.length > readPods.length && (
        <Alert severity="info" style={{ marginTop: 8 }}>
          Showing the first {readPods.length} of {chosen.length} pods: each
          followed pod is one log stream, and streams per user are limited. Pick
          one pod to read the others.
        </Alert>
      )}
      {state.kind === 'failed' && (
        <Alert severity="error" style={{ marginTop: 8 }}>
          Could not read the log: {state.message}
        </Alert>
      )}
      {state.kind === 'interrupted' && (
        <Alert
          severity="warning"
          style={{ marginTop: 8 }}
          data-testid="logs-interrupted"
          action={
            <Button
              color="inherit"
              size="small"
              onClick={() => {
                resumeFrom.current = {
                  sinceSeconds:
                    Math.ceil((Date.now() - state.lastDataAt) / 1000) + 1,
                  lines,
                };
                setReloads(reloads + 1);
              }}
            >
              Reconnect
            </Button>
          }
        >
          The log stream was interrupted: {state.reason}. Reconnecting follows
          on from the last line received.
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
        {merged &&
          state.kind !== 'loading' &&
          ` · ${readPods.length} pod(s), interleaved by time`}
      </Typography>
      <Box height={480} mt={1} data-testid="logs-viewer">
        {lineCount > 0 ? (
          <LogLines lines={shownLines} highlight={inverse ? '' : filter} />
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

function text0(texts: string[]): string {
  return texts[0] ?? '';
}

const useLineStyles = makeStyles(theme => ({
  root: {
    height: '100%',
    overflow: 'auto',
    fontFamily: 'monospace',
    fontSize: 12,
    background: theme.palette.background.default,
    padding: theme.spacing(0.5, 0),
  },
  line: { display: 'flex', whiteSpace: 'pre-wrap', wordBreak: 'break-all' },
  number: {
    flex: '0 0 auto',
    minWidth: 56,
    paddingRight: theme.spacing(1),
    textAlign: 'right',
    color: theme.palette.text.secondary,
    userSelect: 'none',
  },
  source: {
    flex: '0 0 auto',
    paddingRight: theme.spacing(1),
    color: theme.palette.primary.main,
  },
  mark: { background: theme.palette.warning.light, color: 'inherit' },
}));

/** Splits a text around a case-insensitive needle, for highlighting. */
function marked(text: string, needle: string, className: string) {
  if (!needle) return text;
  const lower = text.toLocaleLowerCase();
  const wanted = needle.toLocaleLowerCase();
  const parts: Array<string | JSX.Element> = [];
  let from = 0;
  for (
    let at = lower.indexOf(wanted);
    at >= 0;
    at = lower.indexOf(wanted, at + wanted.length)
  ) {
    parts.push(text.slice(from, at));
    parts.push(
      <mark key={at} className={className}>
        {text.slice(at, at + wanted.length)}
      </mark>,
    );
    from = at + wanted.length;
  }
  parts.push(text.slice(from));
  return parts;
}

/**
 * Log lines with their numbers in the whole log (kept when filtered) and,
 * when merged, the pod and container each came from.
 */
function LogLines(props: { lines: LogLine[]; highlight: string }) {
  const classes = useLineStyles();
  const { lines, highlight } = props;
  const drawn =
    lines.length > MAX_RENDERED ? lines.slice(-MAX_RENDERED) : lines;
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [lines]);
  return (
    <div className={classes.root} role="log" aria-label="Log lines">
      {drawn.length < lines.length && (
        <Typography variant="caption" color="textSecondary" component="p">
          The first {lines.length - drawn.length} matching line(s) are not
          drawn; download the log to read them.
        </Typography>
      )}
      {drawn.map(line => (
        <div key={line.n} className={classes.line} data-line={line.n}>
          <span className={classes.number}>{line.n}</span>
          {line.source && <span className={classes.source}>{line.source}</span>}
          <span>{marked(line.text, highlight, classes.mark)}</span>
        </div>
      ))}
      <div ref={end} />
    </div>
  );
}
