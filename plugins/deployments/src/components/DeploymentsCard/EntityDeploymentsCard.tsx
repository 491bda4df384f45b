import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EmptyState,
  InfoCard,
  Link,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import { ReleasePlan } from '@kubedeploy/plugin-deployments-common';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { usePlans } from '../../hooks/usePlans';
import { PlanStatusChip } from '../PlanTab/PlanStatusChip';
import {
  ReleaseHealthChip,
  ReleaseSyncChip,
} from '../PlanTab/ReleaseStateChips';
import { RelativeTime, usePlanLink } from '../shared';

/** Plans beyond this many are counted, not read one by one from the clusters. */
const MAX_PLANS = 10;

function byTarget(a: ReleasePlan, b: ReleasePlan): number {
  return (
    a.target.localeCompare(b.target) ||
    a.namespace.localeCompare(b.namespace) ||
    a.releaseName.localeCompare(b.releaseName)
  );
}

/** One plan's row: its state, its release's sync and health, the last apply, waiting approvals. */
function PlanRow(props: { plan: ReleasePlan; href?: string }) {
  const { plan, href } = props;
  const api = useApi(deploymentsApiRef);
  const sync = useAsync(
    () => api.getPlanSync(plan.id),
    [api, plan.id, plan.revision, plan.status],
  );
  const resources = useAsync(
    () => api.getPlanResources(plan.id),
    [api, plan.id, plan.status],
  );
  const approvals = useAsync(
    async () =>
      (await api.listPlanApprovals(plan.id, { limit: 50 })).items.filter(
        approval => approval.status === 'pending',
      ).length,
    [api, plan.id, plan.revision],
  );
  const live = sync.value?.live;
  return (
    <TableRow data-testid={`deployments-card-row-${plan.releaseName}`}>
      <TableCell>
        {href ? (
          <Link to={href}>
            <strong>{plan.releaseName}</strong>
          </Link>
        ) : (
          <strong>{plan.releaseName}</strong>
        )}
        <Typography variant="caption" color="textSecondary" component="div">
          {plan.target}/{plan.namespace} · {plan.chart.name}{' '}
          {plan.chart.version}
        </Typography>
      </TableCell>
      <TableCell>
        <PlanStatusChip status={plan.status} />
      </TableCell>
      <TableCell>
        <ReleaseSyncChip
          state={sync.value}
          loading={sync.loading}
          error={sync.error}
        />{' '}
        <ReleaseHealthChip
          resources={resources.value}
          error={resources.error}
        />
      </TableCell>
      <TableCell>
        {live ? (
          <>
            <Typography variant="body2" data-testid="last-apply">
              revision {live.revision}, <RelativeTime at={live.updated} />
            </Typography>
            <Typography variant="caption" color="textSecondary">
              {live.madeByPortal ? live.actor : 'outside the portal'}
            </Typography>
          </>
        ) : (
          '—'
        )}
      </TableCell>
      <TableCell>
        {approvals.value ? (
          <Typography variant="body2" data-testid="pending-approvals">
            {approvals.value} pending
          </Typography>
        ) : (
          '—'
        )}
      </TableCell>
    </TableRow>
  );
}

/**
 * The component's deployments at a glance, for its Overview: each release
 * plan by target with the plan's state, whether the release matches it
 * (sync) and is healthy, the last apply and approvals waiting. Each release
 * links to its plan on the Deployments tab.
 * @public
 */
export function EntityDeploymentsCard() {
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const { plans, loading, error } = usePlans(entityRef);
  const planLink = usePlanLink();

  let body;
  if (error && !plans) {
    body = (
      <ResponseErrorPanel
        title="Could not list the release plans"
        error={error}
      />
    );
  } else if (loading && !plans) {
    body = <Progress />;
  } else if (!plans || plans.length === 0) {
    body = (
      <EmptyState
        missing="content"
        title="Not deployed through the portal yet"
        description="Release plans of this component appear here, with the sync state and health of their releases. Create one on the Deployments tab."
      />
    );
  } else {
    const shown = [...plans].sort(byTarget).slice(0, MAX_PLANS);
    body = (
      <>
        <Table size="small" data-testid="deployments-card">
          <TableHead>
            <TableRow>
              <TableCell>Release</TableCell>
              <TableCell>Plan</TableCell>
              <TableCell>Release state</TableCell>
              <TableCell>Last apply</TableCell>
              <TableCell>Approvals</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {shown.map(plan => (
              <PlanRow
                key={plan.id}
                plan={plan}
                href={planLink(entityRef, plan.id)}
              />
            ))}
          </TableBody>
        </Table>
        {plans.length > shown.length && (
          <Typography variant="caption" color="textSecondary">
            and {plans.length - shown.length} more plans on the Deployments tab
          </Typography>
        )}
      </>
    );
  }
  return <InfoCard title="Deployments">{body}</InfoCard>;
}
