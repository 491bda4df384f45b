import {
  EmptyState,
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import {
  deploymentsPlanDryRunPermission,
  DryRunResult,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useCallback, useState } from 'react';
import { useLocation } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { usePlans } from '../../hooks/usePlans';
import { dryRunBlockedReason } from '../PlanTab/gates';
import { OperationProgressCard } from '../PlanTab/OperationProgressCard';
import { PlanPicker } from '../PlanTab/PlanPicker';
import { OperationStatusChip, PassChip } from '../PlanTab/PlanStatusChip';
import { usePlanSelection } from '../PlanTab/usePlanSelection';
import {
  errorMessage,
  formatTime,
  PermissionButton,
  shortDigest,
} from '../shared';
import { DryRunResultView } from './DryRunResultView';

/** Props of {@link DryRunTab}. */
export interface DryRunTabProps {
  entityRef: string;
}

/** The Dry-run tab of an entity: the latest dry-run of a chosen plan, in full. */
export function DryRunTab(props: DryRunTabProps) {
  const { plans, loading, error, reload } = usePlans(props.entityRef);
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
        description="Create a release plan on the Plan tab; its dry-runs show here: the rendered manifests, the diff against what is deployed and the guardrail findings."
      />
    );
  }
  return (
    <>
      <PlanPicker plans={plans} selected={selected} onSelect={select} />
      <Box mt={1}>
        <LatestDryRun key={selected.id} plan={selected} onChanged={reload} />
      </Box>
    </>
  );
}

/**
 * Pending apply requests bound to a dry-run: an approver who followed the
 * request's notification here learns where to decide.
 */
function PendingApprovalsNote(props: {
  plan: ReleasePlan;
  dryRunOperationId: string;
}) {
  const { plan, dryRunOperationId } = props;
  const api = useApi(deploymentsApiRef);
  const { pathname } = useLocation();
  const approvals = useAsync(
    () => api.listPlanApprovals(plan.id, { limit: 20 }),
    [api, plan.id, plan.revision, plan.status],
  );
  // Supplementary: nothing to show while loading or when unreadable.
  const pending = (approvals.value?.items ?? []).filter(
    approval =>
      approval.kind === 'apply' &&
      approval.status === 'pending' &&
      approval.dryRunOperationId === dryRunOperationId,
  );
  if (pending.length === 0) return null;
  const planTab = /\/dry-run\/?$/.test(pathname)
    ? `${pathname.replace(/\/dry-run\/?$/, '/deployments')}?plan=${plan.id}`
    : undefined;
  return (
    <Alert
      severity="warning"
      style={{ marginBottom: 8 }}
      data-testid="pending-approval-note"
    >
      {pending.map(approval => (
        <div key={approval.id}>
          {approval.requestedBy} asks for approval to apply exactly this dry-run
          {approval.comment ? ` (“${approval.comment}”)` : ''}, until{' '}
          {formatTime(approval.expiresAt)}.
        </div>
      ))}
      Approve or reject it under Change control on the{' '}
      {planTab ? <Link to={planTab}>Plan tab</Link> : 'Plan tab'}.
    </Alert>
  );
}

function LatestDryRun(props: { plan: ReleasePlan; onChanged: () => void }) {
  const { plan, onChanged } = props;
  const api = useApi(deploymentsApiRef);
  const alertApi = useApi(alertApiRef);
  const [starting, setStarting] = useState(false);
  // A counter rather than retry(): react-use drops a retry() made while a
  // load is still in flight, which would leave the previous dry-run shown.
  const [version, setVersion] = useState(0);
  const latest = useAsyncRetry(async () => {
    const page = await api.listPlanOperations(plan.id, { limit: 100 });
    const newest = page.items.find(op => op.kind === 'dry-run');
    return newest ? api.getOperation(newest.id) : undefined;
  }, [api, plan.id, version]);
  const reload = useCallback(() => setVersion(v => v + 1), []);
  const onFinished = useCallback(() => {
    reload();
    onChanged();
  }, [reload, onChanged]);

  const run = async () => {
    setStarting(true);
    try {
      await api.dryRunPlan(plan.id);
      reload();
      onChanged();
    } catch (e) {
      alertApi.post({
        message: `The dry-run did not start: ${errorMessage(e)}`,
        severity: 'error',
      });
    } finally {
      setStarting(false);
    }
  };

  const runButton = (
    <PermissionButton
      permission={deploymentsPlanDryRunPermission}
      resourceRef={plan.id}
      variant="contained"
      color="primary"
      busy={starting || latest.value?.status === 'running'}
      disabledReason={dryRunBlockedReason(plan)}
      onClick={run}
    >
      Run dry-run
    </PermissionButton>
  );

  if (latest.error) {
    return (
      <ResponseErrorPanel
        title="Could not read the plan's dry-runs. Check that you may read this plan, then reload."
        error={latest.error}
      />
    );
  }
  if (latest.loading && !latest.value) return <Progress />;
  const operation = latest.value;
  if (!operation) {
    return (
      <EmptyState
        missing="content"
        title={`Plan ${plan.releaseName} has not been dry-run yet`}
        description="A dry-run renders the chart with the plan's values on the cluster (nothing changes), checks the guardrails and diffs against what is deployed. Apply needs a passed one."
        action={runButton}
      />
    );
  }
  if (operation.status === 'running') {
    return (
      <>
        <Box mb={1}>{runButton}</Box>
        <OperationProgressCard
          operationId={operation.id}
          planId={plan.id}
          onFinished={onFinished}
        />
      </>
    );
  }
  const result =
    operation.result?.type === 'dry-run'
      ? (operation.result as DryRunResult)
      : undefined;
  const current =
    plan.lastDryRun?.operationId === operation.id &&
    plan.lastDryRun.planRevision === plan.revision;
  return (
    <InfoCard
      title={`Dry-run of ${plan.releaseName}`}
      subheader={`Plan revision ${operation.planRevision} · by ${
        operation.actor
      } at ${formatTime(operation.createdAt)}`}
      action={
        <Box display="flex" alignItems="center" style={{ gap: 8 }} mt={1}>
          {result ? (
            <PassChip passed={result.passed} />
          ) : (
            <OperationStatusChip status={operation.status} />
          )}
          {runButton}
        </Box>
      }
    >
      {(operation.inputsHash || result?.inputsHash) && (
        <Typography variant="body2" gutterBottom data-testid="inputs-hash">
          Bound to inputs{' '}
          <code title={result?.inputsHash ?? operation.inputsHash}>
            {shortDigest(result?.inputsHash ?? operation.inputsHash ?? '')}
          </code>
          {result && (
            <>
              {' '}
              · chart <code>{shortDigest(result.chartDigest)}</code>
            </>
          )}
        </Typography>
      )}
      {!current && (
        <Alert severity="info" style={{ marginBottom: 8 }}>
          The plan changed since this dry-run (it is at revision {plan.revision}
          ); run the dry-run again before the next apply.
        </Alert>
      )}
      {result?.passed && (
        <PendingApprovalsNote plan={plan} dryRunOperationId={operation.id} />
      )}
      {operation.error && (
        <Alert severity="error" style={{ marginBottom: 8 }}>
          {operation.error}
        </Alert>
      )}
      {result ? (
        <DryRunResultView result={result} />
      ) : (
        <Typography variant="body2" color="textSecondary">
          This dry-run {operation.status} before it rendered anything. Fix the
          cause above and run it again.
        </Typography>
      )}
    </InfoCard>
  );
}
