import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import {
  deploymentsPlanCreatePermission,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { usePlans } from '../../hooks/usePlans';
import { PermissionButton, RelativeTime } from '../shared';
import { PlanAdvisoriesCard } from './PlanAdvisoriesCard';
import { PlanDetails } from './PlanDetails';
import { PlanDialog } from './PlanDialog';
import { PlanStatusChip } from './PlanStatusChip';
import { usePlanSelection } from './usePlanSelection';

/** The plans' columns; the chosen plan's message shows in its details, not twice. */
function planColumns(selectedId?: string): TableColumn<ReleasePlan>[] {
  return [
    {
      title: 'Release',
      field: 'releaseName',
      highlight: true,
      render: plan => (
        <>
          <Typography variant="body2" style={{ fontWeight: 'bold' }}>
            {plan.releaseName}
          </Typography>
          <Typography variant="caption" color="textSecondary">
            {plan.chart.name} {plan.chart.version}
          </Typography>
        </>
      ),
    },
    {
      title: 'Where',
      render: plan => `${plan.target}/${plan.namespace}`,
    },
    {
      title: 'Status',
      render: plan => (
        <>
          <PlanStatusChip status={plan.status} />
          {plan.statusMessage && plan.id !== selectedId && (
            <Typography
              variant="caption"
              color="textSecondary"
              component="p"
              style={{ maxWidth: 360 }}
            >
              {plan.statusMessage}
            </Typography>
          )}
        </>
      ),
    },
    {
      title: 'Last change',
      render: plan => {
        // An edit is a change too, not only an operation.
        const edited =
          Date.parse(plan.updatedAt) > Date.parse(plan.statusChangedAt);
        return (
          <>
            <Typography variant="body2">
              <RelativeTime
                at={edited ? plan.updatedAt : plan.statusChangedAt}
              />
            </Typography>
            <Typography variant="caption" color="textSecondary">
              {edited ? plan.updatedBy : plan.statusChangedBy}
            </Typography>
          </>
        );
      },
    },
  ];
}

/** Props of {@link PlanTab}. */
export interface PlanTabProps {
  /** The entity whose plans to show, e.g. `component:default/payments-api`. */
  entityRef: string;
}

/** The Plan tab of an entity: its release plans, and the chosen one in full. */
export function PlanTab(props: PlanTabProps) {
  const { entityRef } = props;
  const { plans, loading, error, reload } = usePlans(entityRef);
  const [selected, select] = usePlanSelection(plans);
  const [creating, setCreating] = useState(false);
  const entityName = entityRef.split('/').pop();

  const newPlanButton = (
    <PermissionButton
      permission={deploymentsPlanCreatePermission}
      variant="contained"
      color="primary"
      onClick={() => setCreating(true)}
    >
      New plan
    </PermissionButton>
  );

  let body;
  if (error && !plans) {
    body = (
      <ResponseErrorPanel
        title="Could not list the release plans. Check that the deployments backend is running and that you may read plans, then reload."
        error={error}
      />
    );
  } else if (loading && !plans) {
    body = <Progress />;
  } else if (plans && plans.length === 0) {
    body = (
      <EmptyState
        missing="content"
        title="No release plans for this component yet — create one"
        description="A release plan names a chart version, a target cluster and namespace, a release name and a values profile. It is dry-run and preflighted before anything is applied."
        action={newPlanButton}
      />
    );
  } else {
    body = (
      <>
        <Box display="flex" justifyContent="flex-end" mb={1}>
          {newPlanButton}
        </Box>
        <Table<ReleasePlan>
          title={`Release plans (${plans?.length ?? 0})`}
          columns={planColumns(selected?.id)}
          data={plans ?? []}
          onRowClick={(_, plan) => plan && select(plan.id)}
          options={{
            paging: (plans?.length ?? 0) > 10,
            pageSize: 10,
            search: false,
            padding: 'dense',
            rowStyle: (plan: ReleasePlan) =>
              plan.id === selected?.id
                ? { backgroundColor: 'rgba(25, 118, 210, 0.08)' }
                : {},
          }}
        />
        {selected && (
          <Box mt={2}>
            <PlanDetails
              key={selected.id}
              plan={selected}
              onChanged={reload}
              onDeleted={reload}
            />
            <Box mt={2}>
              <PlanAdvisoriesCard plan={selected} onRevised={reload} />
            </Box>
          </Box>
        )}
      </>
    );
  }

  return (
    <>
      {body}
      <PlanDialog
        open={creating}
        entityRef={entityRef}
        suggestedReleaseName={entityName}
        onClose={() => setCreating(false)}
        onSaved={plan => {
          setCreating(false);
          reload();
          select(plan.id);
        }}
      />
    </>
  );
}
