import { Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  Chart,
  describeInvalidNamespace,
  describeInvalidReleaseName,
  ReleasePlan,
  ReleasePlanInput,
  Target,
  ValuesProfile,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { FormEvent, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { ProfileEditorDialog } from '../ValuesForm';
import { errorMessage } from '../shared';

/** Props of {@link PlanDialog}. */
export interface PlanDialogProps {
  open: boolean;
  /** The entity the plan deploys, e.g. `component:default/payments-api`. */
  entityRef: string;
  /** The plan to edit (a new plan revision); a new plan when absent. */
  plan?: ReleasePlan;
  /** A release name to suggest for a new plan (the entity's name). */
  suggestedReleaseName?: string;
  onSaved: (plan: ReleasePlan) => void;
  onClose: () => void;
}

function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function globMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .split('')
    .map(c => {
      if (c === '*') return '.*';
      if (c === '?') return '.';
      return c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${regex}$`).test(name);
}

/** Why `namespace` cannot be used with `target`, or undefined. */
export function describeNamespaceProblem(
  target: Target | undefined,
  namespace: string,
): string | undefined {
  const invalid = describeInvalidNamespace(namespace);
  if (invalid) return invalid;
  if (
    target &&
    !target.allowedNamespaces.some(p => globMatches(p, namespace))
  ) {
    return `Target ${
      target.name
    } does not allow namespace "${namespace}" (allowed: ${
      target.allowedNamespaces.join(', ') || 'none'
    })`;
  }
  return undefined;
}

/** Creates or edits a release plan of one entity. */
export function PlanDialog(props: PlanDialogProps) {
  return (
    <Dialog
      open={props.open}
      onClose={props.onClose}
      maxWidth="sm"
      fullWidth
      aria-labelledby="plan-dialog-title"
    >
      {props.open && <PlanForm {...props} />}
    </Dialog>
  );
}

function PlanForm(props: PlanDialogProps) {
  const { entityRef, plan, onSaved, onClose } = props;
  const api = useApi(deploymentsApiRef);
  const charts = useAsync(() => api.listCharts({ limit: 500 }), [api]);
  const targets = useAsync(() => api.listTargets({ limit: 500 }), [api]);

  const [chartId, setChartId] = useState(plan?.chartId ?? '');
  const [targetName, setTargetName] = useState(plan?.target ?? '');
  const [namespace, setNamespace] = useState(plan?.namespace ?? '');
  const [releaseName, setReleaseName] = useState(
    plan?.releaseName ?? props.suggestedReleaseName ?? '',
  );
  const [profileId, setProfileId] = useState(plan?.profileId ?? '');
  const [timeoutSeconds, setTimeoutSeconds] = useState(
    String(plan?.options.timeoutSeconds ?? 300),
  );
  const [historyMax, setHistoryMax] = useState(
    String(plan?.options.historyMax ?? 10),
  );
  const [createNamespace, setCreateNamespace] = useState(
    plan?.options.createNamespace ?? false,
  );
  const [runTests, setRunTests] = useState(plan?.options.runTests ?? false);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [creatingProfile, setCreatingProfile] = useState(false);

  const profiles = useAsyncRetry(
    async () =>
      chartId ? api.listProfiles({ chartId, limit: 500 }) : undefined,
    [api, chartId],
  );

  const chart: Chart | undefined = charts.value?.items.find(
    c => c.id === chartId,
  );
  const target: Target | undefined = targets.value?.items.find(
    t => t.name === targetName,
  );
  const exactNamespaces =
    target && !target.allowedNamespaces.some(isGlob)
      ? target.allowedNamespaces
      : undefined;

  const releaseProblem = describeInvalidReleaseName(releaseName);
  const namespaceProblem = target
    ? describeNamespaceProblem(target, namespace)
    : undefined;
  const timeout = Number(timeoutSeconds);
  const timeoutProblem =
    Number.isInteger(timeout) && timeout >= 1 && timeout <= 3600
      ? undefined
      : 'A whole number of seconds from 1 to 3600';
  const history = Number(historyMax);
  const historyProblem =
    Number.isInteger(history) && history >= 1 && history <= 100
      ? undefined
      : 'A whole number from 1 to 100';
  const ready =
    chart &&
    target &&
    !releaseProblem &&
    !namespaceProblem &&
    !timeoutProblem &&
    !historyProblem;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!ready) return;
    setBusy(true);
    setError(undefined);
    const input: ReleasePlanInput = {
      chartId,
      target: targetName,
      namespace,
      releaseName,
      profileId: profileId || undefined,
      options: {
        timeoutSeconds: timeout,
        historyMax: history,
        createNamespace,
        runTests,
      },
    };
    try {
      const saved = plan
        ? await api.updatePlan(plan.id, {
            ...input,
            expectedRevision: plan.revision,
          })
        : await api.createPlan({ ...input, entityRef });
      onSaved(saved);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const loadError = charts.error ?? targets.error;
  const submitLabel = plan ? 'Save plan' : 'Create plan';
  const show = (problem: string | undefined, value: string) =>
    (touched || value !== '') && problem !== undefined;

  return (
    <>
      <form onSubmit={submit} noValidate>
        <DialogTitle id="plan-dialog-title">
          {plan
            ? `Edit plan ${plan.releaseName} (revision ${plan.revision} → ${
                plan.revision + 1
              })`
            : 'New release plan'}
        </DialogTitle>
        <DialogContent dividers>
          {error && (
            <Alert severity="error" role="alert" style={{ marginBottom: 8 }}>
              {error}
            </Alert>
          )}
          {loadError && (
            <Alert severity="error" style={{ marginBottom: 8 }}>
              Could not load charts and targets: {errorMessage(loadError)}
            </Alert>
          )}
          {(charts.loading || targets.loading) && <Progress />}
          {plan && (
            <Alert severity="info" style={{ marginBottom: 8 }}>
              Saving writes plan revision {plan.revision + 1}; the dry-run and
              preflight must pass again before the next apply.
            </Alert>
          )}
          <TextField
            id="deployments-plan-chart"
            label="Chart"
            select
            SelectProps={{ native: true }}
            InputLabelProps={{ shrink: true }}
            value={chartId}
            onChange={e => {
              setChartId(e.target.value);
              setProfileId('');
            }}
            fullWidth
            margin="dense"
            required
            error={touched && !chart}
            helperText={
              charts.value && charts.value.items.length === 0
                ? 'No charts are registered: register one on the Deployments page first'
                : 'A registered chart version, pinned by digest'
            }
            inputProps={{ 'data-testid': 'plan-chart' }}
          >
            <option value="">Choose a chart…</option>
            {charts.value?.items.map(c => (
              <option key={c.id} value={c.id}>
                {c.name} {c.version}
              </option>
            ))}
          </TextField>
          <TextField
            id="deployments-plan-target"
            label="Target"
            select
            SelectProps={{ native: true }}
            InputLabelProps={{ shrink: true }}
            value={targetName}
            onChange={e => {
              setTargetName(e.target.value);
              const next = targets.value?.items.find(
                t => t.name === e.target.value,
              );
              if (next && !next.allowedNamespaces.some(isGlob)) {
                setNamespace(
                  next.allowedNamespaces.includes(namespace)
                    ? namespace
                    : next.allowedNamespaces[0] ?? '',
                );
              }
            }}
            fullWidth
            margin="dense"
            required
            error={touched && !target}
            helperText="The cluster to deploy to"
            inputProps={{ 'data-testid': 'plan-target' }}
          >
            <option value="">Choose a target…</option>
            {targets.value?.items.map(t => (
              <option key={t.name} value={t.name}>
                {t.displayName && t.displayName !== t.name
                  ? `${t.name} (${t.displayName})`
                  : t.name}
              </option>
            ))}
          </TextField>
          {exactNamespaces ? (
            <TextField
              id="deployments-plan-namespace"
              label="Namespace"
              select
              SelectProps={{ native: true }}
              InputLabelProps={{ shrink: true }}
              value={namespace}
              onChange={e => setNamespace(e.target.value)}
              fullWidth
              margin="dense"
              required
              error={show(namespaceProblem, namespace)}
              helperText={
                (exactNamespaces.length === 0 &&
                  `Target ${target?.name} allows no namespace; ask its owner to add one`) ||
                (show(namespaceProblem, namespace) && namespaceProblem) ||
                "From the target's allowlist"
              }
              inputProps={{ 'data-testid': 'plan-namespace' }}
            >
              <option value="">Choose a namespace…</option>
              {exactNamespaces.map(ns => (
                <option key={ns} value={ns}>
                  {ns}
                </option>
              ))}
            </TextField>
          ) : (
            <TextField
              id="deployments-plan-namespace"
              label="Namespace"
              value={namespace}
              onChange={e => setNamespace(e.target.value.trim())}
              fullWidth
              margin="dense"
              required
              disabled={!target}
              error={show(namespaceProblem, namespace)}
              helperText={
                (show(namespaceProblem, namespace) && namespaceProblem) ||
                (target
                  ? `Allowed: ${target.allowedNamespaces.join(', ')}`
                  : 'Choose a target first')
              }
              inputProps={{ 'data-testid': 'plan-namespace' }}
            />
          )}
          <TextField
            id="deployments-plan-release-name"
            label="Release name"
            value={releaseName}
            onChange={e => setReleaseName(e.target.value.trim())}
            fullWidth
            margin="dense"
            required
            error={show(releaseProblem, releaseName)}
            helperText={
              (show(releaseProblem, releaseName) && releaseProblem) ||
              "Helm's release name: lower case letters, digits and '-', at most 53 characters"
            }
            inputProps={{ 'data-testid': 'plan-release-name' }}
          />
          <Box display="flex" alignItems="flex-end" style={{ gap: 8 }}>
            <TextField
              id="deployments-plan-profile"
              label="Values profile"
              select
              SelectProps={{ native: true }}
              InputLabelProps={{ shrink: true }}
              value={profileId}
              onChange={e => setProfileId(e.target.value)}
              fullWidth
              margin="dense"
              disabled={!chart}
              helperText={
                profiles.error
                  ? `Could not list profiles: ${errorMessage(profiles.error)}`
                  : "The plan uses the profile's newest revision; editing the profile invalidates the plan's dry-run and preflight"
              }
              inputProps={{ 'data-testid': 'plan-profile' }}
            >
              <option value="">None (the chart defaults)</option>
              {profiles.value?.items.map((p: ValuesProfile) => (
                <option key={p.id} value={p.id}>
                  {p.name} (revision {p.revision})
                </option>
              ))}
            </TextField>
            <Button
              size="small"
              disabled={!chart}
              onClick={() => setCreatingProfile(true)}
              style={{ marginBottom: 28, whiteSpace: 'nowrap' }}
            >
              New profile
            </Button>
          </Box>
          <Typography variant="subtitle2" style={{ marginTop: 16 }}>
            Helm options
          </Typography>
          <Box display="flex" style={{ gap: 16 }}>
            <TextField
              id="deployments-plan-timeout"
              label="Timeout (seconds)"
              type="number"
              value={timeoutSeconds}
              onChange={e => setTimeoutSeconds(e.target.value)}
              margin="dense"
              error={timeoutProblem !== undefined}
              helperText={timeoutProblem ?? 'How long Helm waits for readiness'}
              inputProps={{ min: 1, max: 3600 }}
            />
            <TextField
              id="deployments-plan-history-max"
              label="History kept"
              type="number"
              value={historyMax}
              onChange={e => setHistoryMax(e.target.value)}
              margin="dense"
              error={historyProblem !== undefined}
              helperText={historyProblem ?? 'Helm revisions to keep'}
              inputProps={{ min: 1, max: 100 }}
            />
          </Box>
          <FormControlLabel
            control={
              <Checkbox
                checked={createNamespace}
                onChange={e => setCreateNamespace(e.target.checked)}
              />
            }
            label="Create the namespace if it does not exist"
          />
          <FormControlLabel
            control={
              <Checkbox
                checked={runTests}
                onChange={e => setRunTests(e.target.checked)}
              />
            }
            label="Run the chart's tests after apply (roll back when they fail)"
          />
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button
            type="submit"
            color="primary"
            variant="contained"
            disabled={busy || (touched && !ready)}
          >
            {busy ? 'Saving…' : submitLabel}
          </Button>
        </DialogActions>
      </form>
      {/* Outside the form: its submit events must not reach this one. */}
      {chart && (
        <ProfileEditorDialog
          open={creatingProfile}
          chart={chart}
          onClose={() => setCreatingProfile(false)}
          onSaved={saved => {
            setCreatingProfile(false);
            profiles.retry();
            setProfileId(saved.id);
          }}
        />
      )}
    </>
  );
}
