import { InfoCard, StructuredMetadataTable } from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  deploymentsChangeWindowOverridePermission,
  deploymentsPlanApplyPermission,
  deploymentsPlanDeletePermission,
  deploymentsPlanDryRunPermission,
  deploymentsPlanRollbackPermission,
  deploymentsPlanUninstallPermission,
  deploymentsPlanUpdatePermission,
  Operation,
  ReleaseHistoryEntry,
  ReleasePlan,
  ReleasePlanGate,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useCallback, useEffect, useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import {
  ConfirmDialog,
  errorMessage,
  formatTime,
  notifyDeploymentsChanged,
  PermissionButton,
  shortDigest,
} from '../shared';
import { ApplyConfirmDialog } from './ApplyConfirmDialog';
import { ChangeControlCard, describeTime } from './ChangeControlCard';
import { EmergencyOverrideDialog } from './EmergencyOverrideDialog';
import {
  applyBlockedReason,
  approvalMissingReason,
  ChangeControlFacts,
  dryRunBlockedReason,
  GateInputChanges,
  gateStaleReason,
  preflightBlockedReason,
  uninstallBlockedReason,
  windowClosedReason,
} from './gates';
import { OperationProgressCard } from './OperationProgressCard';
import { PlanDialog } from './PlanDialog';
import { PlanHistoryCard } from './PlanHistoryCard';
import { PlanResourcesCard } from './PlanResourcesCard';
import { PassChip, PlanStatusChip, StaleChip } from './PlanStatusChip';
import { ReleaseStateLine } from './ReleaseStateChips';
import { useEntityTabHref } from './entityTabLinks';
import { useChangeControl } from './useChangeControl';

type Confirmation =
  | { kind: 'apply' }
  | { kind: 'rollback'; entry: ReleaseHistoryEntry }
  | { kind: 'recover' }
  | { kind: 'uninstall' }
  | { kind: 'delete' };

/** A change waiting for its emergency-override reason. */
type Override = {
  action: string;
  run: (overrideReason: string) => Promise<Operation>;
};

function GateLine(props: {
  label: string;
  gate?: ReleasePlanGate;
  staleReason?: string;
}) {
  const { label, gate, staleReason } = props;
  return (
    <Box display="flex" alignItems="center" style={{ gap: 8 }} mb={0.5}>
      <Typography variant="body2" style={{ minWidth: 72 }}>
        {label}
      </Typography>
      {gate ? (
        <>
          {staleReason ? (
            <StaleChip reason={staleReason} />
          ) : (
            <PassChip passed={gate.passed} />
          )}
          <Typography variant="caption" color="textSecondary">
            {staleReason
              ? `${gate.passed ? 'passed' : 'failed'}, but ${staleReason}; `
              : ''}
            plan revision {gate.planRevision}, {formatTime(gate.at)}, inputs{' '}
            <code title={gate.inputsHash}>{shortDigest(gate.inputsHash)}</code>
          </Typography>
        </>
      ) : (
        <Typography variant="caption" color="textSecondary">
          not run yet
        </Typography>
      )}
    </Box>
  );
}

function messageSeverity(plan: ReleasePlan): 'error' | 'warning' | 'info' {
  if (['failed', 'dry-run-failed', 'preflight-failed'].includes(plan.status)) {
    return 'error';
  }
  return plan.status === 'interrupted' ? 'warning' : 'info';
}

/** Props of {@link PlanDetails}. */
export interface PlanDetailsProps {
  plan: ReleasePlan;
  /** Called after anything that changes the plan, to reload it. */
  onChanged: () => void;
  onDeleted: () => void;
}

/**
 * One release plan: its inputs and gates, the operation buttons in workflow
 * order, the running operation live, the release's resources and its history.
 */
export function PlanDetails(props: PlanDetailsProps) {
  const { plan, onChanged, onDeleted } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [followed, setFollowed] = useState<string | undefined>(
    plan.runningOperationId,
  );
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState<Confirmation | undefined>();
  const [starting, setStarting] = useState(false);
  const [override, setOverride] = useState<Override | undefined>();
  const control = useChangeControl(plan);
  const reloadControl = control.reload;
  const facts: ChangeControlFacts = {
    requireApproval: control.target.value?.requireApproval,
    window: control.window.value,
    approvals: control.approvals.value?.items,
  };
  const windowClosed = control.window.value?.open === false;

  // An operation started elsewhere (another tab, a colleague) is followed too.
  useEffect(() => {
    if (plan.runningOperationId) setFollowed(plan.runningOperationId);
  }, [plan.runningOperationId]);
  useEffect(() => {
    setFollowed(plan.runningOperationId);
    // A different plan: forget the previous plan's operation.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [plan.id]);

  // Bumped when an operation that changes the release finishes. react-use's
  // retry() is a no-op while a load is in flight and a memoised callback
  // would hold a stale one, so the refresh is a dependency instead.
  const [releaseVersion, setReleaseVersion] = useState(0);
  const resources = useAsyncRetry(
    () => api.getPlanResources(plan.id),
    [api, plan.id, releaseVersion],
  );
  const history = useAsyncRetry(
    async () => (await api.getPlanHistory(plan.id)).items,
    [api, plan.id, releaseVersion],
  );
  const profile = useAsync(
    async () => (plan.profileId ? api.getProfile(plan.profileId) : undefined),
    [api, plan.profileId],
  );
  const sync = useAsyncRetry(
    () => api.getPlanSync(plan.id),
    [api, plan.id, plan.revision, plan.status, releaseVersion],
  );
  const tabHref = useEntityTabHref();
  const target = control.target.value;
  const gateChanges: GateInputChanges = {
    profileChangedAt:
      plan.profileRevision === undefined ? profile.value?.updatedAt : undefined,
    targetChangedAt: [target?.updatedAt, target?.credentials.updatedAt]
      .filter((at): at is string => Boolean(at))
      .sort()
      .pop(),
  };
  // The header's "last change" is the later of an edit and a status change.
  const edited = Date.parse(plan.updatedAt) > Date.parse(plan.statusChangedAt);
  const lastChangeBy = edited ? plan.updatedBy : plan.statusChangedBy;
  const lastChangeAt = edited ? plan.updatedAt : plan.statusChangedAt;

  // The error of the operation shown below; the plan's message repeats it.
  const [followedError, setFollowedError] = useState<
    { operationId: string; error: string } | undefined
  >();
  // Said once: while the operation card shows the error, the plan's
  // message keeps only what it adds (the state the release was left in).
  const statusMessage =
    followedError &&
    followed === followedError.operationId &&
    plan.statusMessage?.startsWith(followedError.error)
      ? plan.statusMessage
          .slice(followedError.error.length)
          .replace(/^[\s;:,.]+/, '')
      : plan.statusMessage;
  const onFinished = useCallback(
    (operation: Operation) => {
      if (operation.error) {
        setFollowedError({ operationId: operation.id, error: operation.error });
      }
      onChanged();
      reloadControl();
      notifyDeploymentsChanged();
      if (operation.kind !== 'dry-run' && operation.kind !== 'preflight') {
        setReleaseVersion(version => version + 1);
      }
    },
    [onChanged, reloadControl],
  );

  const start = async (
    what: string,
    run: () => Promise<Operation>,
  ): Promise<void> => {
    setStarting(true);
    try {
      const operation = await run();
      setFollowed(operation.id);
      onChanged();
    } catch (e) {
      alertApi.post({
        message: `${what} did not start: ${errorMessage(e)}`,
        severity: 'error',
      });
    } finally {
      setStarting(false);
    }
  };

  /** Starts a change now, or asks for an override reason when the window is closed. */
  const change = async (
    action: string,
    run: (options: { overrideReason?: string }) => Promise<Operation>,
  ) => {
    if (windowClosed) {
      setOverride({ action, run: overrideReason => run({ overrideReason }) });
    } else {
      await start(action, () => run({}));
    }
  };

  const confirm = async () => {
    const current = confirming;
    setConfirming(undefined);
    if (!current) return;
    if (current.kind === 'apply') {
      await start('Apply', () => api.applyPlan(plan.id));
    } else if (current.kind === 'rollback') {
      await change(`Rollback to revision ${current.entry.revision}`, options =>
        api.rollbackPlan(plan.id, current.entry.revision, options),
      );
    } else if (current.kind === 'recover') {
      await change('Recovery', options =>
        api.rollbackPlan(plan.id, undefined, options),
      );
    } else if (current.kind === 'uninstall') {
      await change(`Uninstall ${plan.releaseName}`, options =>
        api.uninstallPlan(plan.id, plan.releaseName, options),
      );
    } else {
      try {
        await api.deletePlan(plan.id);
        alertApi.post({
          message: `Plan ${plan.releaseName} deleted; the release itself was left as it is.`,
          severity: 'success',
          display: 'transient',
        });
        onDeleted();
      } catch (e) {
        alertApi.post({
          message: `Could not delete the plan: ${errorMessage(e)}`,
          severity: 'error',
        });
      }
    }
  };

  const busy = starting;
  const uninstallReason =
    uninstallBlockedReason(plan, history.value) ??
    approvalMissingReason('uninstall', plan, facts);
  const applyGateReason =
    applyBlockedReason(plan) ?? approvalMissingReason('apply', plan, facts);
  const applyReason =
    applyGateReason ?? windowClosedReason(facts.window, describeTime);

  return (
    <Grid container spacing={2} data-testid="plan-details">
      <Grid item xs={12}>
        <InfoCard
          title={
            <Box display="flex" alignItems="center" style={{ gap: 8 }}>
              <span>Plan {plan.releaseName}</span>
              <PlanStatusChip status={plan.status} />
            </Box>
          }
          subheader={`Revision ${
            plan.revision
          } · last change by ${lastChangeBy} at ${formatTime(lastChangeAt)}`}
        >
          <ReleaseStateLine
            sync={sync.value}
            syncLoading={sync.loading}
            syncError={sync.error}
            resources={resources.value}
            resourcesError={resources.error}
          />
          {statusMessage && (
            <Alert
              severity={messageSeverity(plan)}
              style={{ marginBottom: 8 }}
              data-testid="plan-status-message"
            >
              {statusMessage}
            </Alert>
          )}
          {plan.status === 'interrupted' && (
            <Alert
              severity="warning"
              style={{ marginBottom: 8 }}
              action={
                <PermissionButton
                  permission={deploymentsPlanRollbackPermission}
                  resourceRef={plan.id}
                  color="inherit"
                  size="small"
                  busy={busy}
                  disabledReason={
                    plan.runningOperationId
                      ? 'An operation is running on this release'
                      : undefined
                  }
                  onClick={() => setConfirming({ kind: 'recover' })}
                >
                  Recover (roll back)
                </PermissionButton>
              }
            >
              The last operation was interrupted (the backend stopped while it
              ran). Helm may have left the release pending; recovering rolls it
              back to the last deployed revision.
            </Alert>
          )}
          <Grid container spacing={2}>
            <Grid item xs={12} md={6}>
              <StructuredMetadataTable
                dense
                metadata={{
                  chart: `${plan.chart.name} ${
                    plan.chart.version
                  } (${shortDigest(plan.chart.digest)})`,
                  target: plan.target,
                  namespace: plan.namespace,
                  'values profile': plan.profileId
                    ? `${profile.value?.name ?? plan.profileId} (${
                        plan.profileRevision !== undefined
                          ? `revision ${plan.profileRevision}`
                          : `latest revision${
                              profile.value
                                ? `, now ${profile.value.revision}`
                                : ''
                            }`
                      })`
                    : 'none (chart defaults)',
                  options: `timeout ${plan.options.timeoutSeconds} s, history ${
                    plan.options.historyMax
                  }${
                    plan.options.createNamespace
                      ? ', creates the namespace'
                      : ''
                  }${plan.options.runTests ? ', runs tests' : ''}`,
                }}
              />
            </Grid>
            <Grid item xs={12} md={6}>
              <Typography variant="subtitle2" gutterBottom>
                Gates before apply
              </Typography>
              <GateLine
                label="Dry-run"
                gate={plan.lastDryRun}
                staleReason={gateStaleReason('dry-run', plan, gateChanges)}
              />
              <GateLine
                label="Preflight"
                gate={plan.lastPreflight}
                staleReason={gateStaleReason('preflight', plan, gateChanges)}
              />
            </Grid>
          </Grid>
          <Box
            display="flex"
            flexWrap="wrap"
            style={{ gap: 8 }}
            mt={2}
            data-testid="plan-actions"
          >
            <PermissionButton
              permission={deploymentsPlanDryRunPermission}
              resourceRef={plan.id}
              variant="contained"
              color="primary"
              busy={busy}
              disabledReason={dryRunBlockedReason(plan)}
              onClick={() => start('Dry-run', () => api.dryRunPlan(plan.id))}
            >
              Dry-run
            </PermissionButton>
            <PermissionButton
              permission={deploymentsPlanDryRunPermission}
              resourceRef={plan.id}
              variant="contained"
              color="primary"
              busy={busy}
              disabledReason={preflightBlockedReason(plan)}
              onClick={() =>
                start('Preflight', () => api.preflightPlan(plan.id))
              }
            >
              Preflight
            </PermissionButton>
            <PermissionButton
              permission={deploymentsPlanApplyPermission}
              resourceRef={plan.id}
              variant="contained"
              color="secondary"
              busy={busy}
              disabledReason={applyReason}
              onClick={() => setConfirming({ kind: 'apply' })}
            >
              Apply
            </PermissionButton>
            {windowClosed && (
              <PermissionButton
                permission={deploymentsChangeWindowOverridePermission}
                resourceRef={plan.id}
                variant="outlined"
                color="secondary"
                busy={busy}
                disabledReason={applyGateReason}
                onClick={() =>
                  setOverride({
                    action: `Apply ${plan.releaseName}`,
                    run: overrideReason =>
                      api.applyPlan(plan.id, { overrideReason }),
                  })
                }
              >
                Emergency override
              </PermissionButton>
            )}
            <Box flexGrow={1} />
            <PermissionButton
              permission={deploymentsPlanUpdatePermission}
              resourceRef={plan.id}
              variant="outlined"
              disabledReason={
                plan.runningOperationId
                  ? 'An operation is running on this release'
                  : undefined
              }
              onClick={() => setEditing(true)}
            >
              Edit plan
            </PermissionButton>
            <PermissionButton
              permission={deploymentsPlanUninstallPermission}
              resourceRef={plan.id}
              variant="outlined"
              color="secondary"
              busy={busy}
              disabledReason={uninstallReason}
              onClick={() => setConfirming({ kind: 'uninstall' })}
            >
              Uninstall
            </PermissionButton>
            <PermissionButton
              permission={deploymentsPlanDeletePermission}
              resourceRef={plan.id}
              variant="outlined"
              disabledReason={
                plan.runningOperationId
                  ? 'An operation is running on this release'
                  : undefined
              }
              onClick={() => setConfirming({ kind: 'delete' })}
            >
              Delete plan
            </PermissionButton>
          </Box>
          {applyReason && !plan.runningOperationId && (
            <Typography
              variant="caption"
              color="textSecondary"
              component="p"
              style={{ marginTop: 8 }}
              data-testid="apply-blocked-reason"
            >
              {applyReason}.
            </Typography>
          )}
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <ChangeControlCard plan={plan} control={control} />
      </Grid>
      {followed && (
        <Grid item xs={12}>
          <OperationProgressCard
            operationId={followed}
            planId={plan.id}
            onFinished={onFinished}
            onDismiss={() => setFollowed(undefined)}
          />
        </Grid>
      )}
      <Grid item xs={12}>
        <PlanResourcesCard
          planId={plan.id}
          resources={resources.value}
          loading={resources.loading}
          error={resources.error}
          onRefresh={resources.retry}
        />
      </Grid>
      <Grid item xs={12}>
        <PlanHistoryCard
          plan={plan}
          history={history.value}
          error={history.error}
          onRollback={entry => setConfirming({ kind: 'rollback', entry })}
          rollbackWaitsReason={entry =>
            approvalMissingReason('rollback', plan, facts, {
              rollbackRevision: entry.revision,
            })
          }
        />
      </Grid>
      <PlanDialog
        open={editing}
        entityRef={plan.entityRef}
        plan={plan}
        onClose={() => setEditing(false)}
        onSaved={() => {
          setEditing(false);
          onChanged();
        }}
      />
      <ApplyConfirmDialog
        open={confirming?.kind === 'apply'}
        plan={plan}
        production={Boolean(target?.production)}
        diffHref={tabHref('dry-run', plan.id)}
        onConfirm={confirm}
        onClose={() => setConfirming(undefined)}
      />
      <ConfirmDialog
        open={confirming?.kind === 'rollback' || confirming?.kind === 'recover'}
        title={
          confirming?.kind === 'rollback'
            ? `Roll ${plan.releaseName} back to revision ${confirming.entry.revision}?`
            : `Recover ${plan.releaseName}?`
        }
        confirmLabel="Roll back"
        onConfirm={confirm}
        onClose={() => setConfirming(undefined)}
      >
        <Typography variant="body2">
          {confirming?.kind === 'rollback'
            ? `Helm redeploys the objects of revision ${confirming.entry.revision} (${confirming.entry.chart}) in ${plan.target}/${plan.namespace} as a new revision.`
            : `Helm rolls the release back to its last deployed revision, clearing a pending state left by the interrupted operation.`}
        </Typography>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming?.kind === 'uninstall'}
        title={`Uninstall ${plan.releaseName}?`}
        confirmLabel="Uninstall"
        confirmationText={plan.releaseName}
        onConfirm={confirm}
        onClose={() => setConfirming(undefined)}
      >
        <Typography variant="body2">
          Helm deletes every object of the release from {plan.target}/
          {plan.namespace}. The plan stays and can be applied again.
        </Typography>
      </ConfirmDialog>
      <EmergencyOverrideDialog
        open={override !== undefined}
        action={override?.action ?? ''}
        window={control.window.value}
        onSubmit={async overrideReason => {
          if (!override) return;
          const operation = await override.run(overrideReason);
          setFollowed(operation.id);
          onChanged();
        }}
        onClose={() => setOverride(undefined)}
      />
      <ConfirmDialog
        open={confirming?.kind === 'delete'}
        title={`Delete plan ${plan.releaseName}?`}
        confirmLabel="Delete plan"
        onConfirm={confirm}
        onClose={() => setConfirming(undefined)}
      >
        <Typography variant="body2">
          The plan and its gates are removed. The release in the cluster, if
          any, is left as it is: uninstall it first if it should go too.
        </Typography>
      </ConfirmDialog>
    </Grid>
  );
}
