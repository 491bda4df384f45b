import { InfoCard, Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  deploymentsPlanReadPermission,
  PlanAdvisories,
  ReleasePlan,
} from '@kubedeploy/plugin-deployments-common';
import Box from '@material-ui/core/Box';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Switch from '@material-ui/core/Switch';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { AdvisoryList } from '../Advisories/AdvisoryList';
import { errorMessage, formatTime, PermissionButton } from '../shared';

/** Props of {@link PlanAdvisoriesCard}. */
export interface PlanAdvisoriesCardProps {
  plan: ReleasePlan;
  /** After a chart advisory made a new plan revision. */
  onRevised?: (plan: ReleasePlan) => void;
}

function CheckSummary(props: { found: PlanAdvisories }) {
  const { check } = props.found;
  if (!check) {
    return (
      <Typography variant="body2" color="textSecondary">
        Not checked yet: a release is checked after its first successful apply,
        on the scheduled check or with Check now.
      </Typography>
    );
  }
  return (
    <>
      <Typography variant="body2" color="textSecondary">
        Checked {formatTime(check.checkedAt)}
        {check.running.chart
          ? `: chart ${check.running.chart.name} ${check.running.chart.version}`
          : ''}
        {`, ${check.running.images.length} container image(s)`}
      </Typography>
      {check.problems.map(problem => (
        <Alert
          severity="warning"
          key={`${problem.source}:${problem.message}`}
          style={{ marginTop: 8 }}
        >
          Could not check {problem.source}: {problem.message}
        </Alert>
      ))}
    </>
  );
}

/** The Plan tab's advisories: newer versions of what the plan's release runs. */
export function PlanAdvisoriesCard(props: PlanAdvisoriesCardProps) {
  const { plan, onRevised } = props;
  const api = useApi(deploymentsApiRef);
  const [includeResolved, setIncludeResolved] = useState(false);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string>();
  const state = useAsyncRetry(
    () => api.getPlanAdvisories(plan.id, { includeResolved }),
    [api, plan.id, plan.revision, includeResolved],
  );

  let body;
  if (state.error && !state.value) {
    body = (
      <Alert severity="error">
        Could not read the advisories of this plan: {errorMessage(state.error)}
      </Alert>
    );
  } else if (!state.value) {
    body = <Progress />;
  } else {
    const found = state.value;
    body = (
      <>
        <CheckSummary found={found} />
        {checkError && (
          <Alert severity="error" style={{ marginTop: 8 }}>
            {checkError}
          </Alert>
        )}
        {found.items.length === 0 && found.check && (
          <Typography variant="body2" style={{ marginTop: 8 }}>
            Nothing newer: the release runs the newest versions its registries
            offer.
          </Typography>
        )}
        {found.items.length > 0 && (
          <Box mt={1}>
            <AdvisoryList
              advisories={found.items}
              onChanged={state.retry}
              onRevised={onRevised}
            />
          </Box>
        )}
      </>
    );
  }

  return (
    <InfoCard
      title="Patch advisories"
      subheader="Newer versions of the images and chart this release runs"
      action={
        <Box display="flex" alignItems="center" mt={1} mr={1}>
          <FormControlLabel
            control={
              <Switch
                size="small"
                checked={includeResolved}
                onChange={e => setIncludeResolved(e.target.checked)}
              />
            }
            label="Resolved too"
          />
          <PermissionButton
            permission={deploymentsPlanReadPermission}
            resourceRef={plan.id}
            size="small"
            variant="outlined"
            busy={checking}
            onClick={async () => {
              setChecking(true);
              setCheckError(undefined);
              try {
                await api.checkPlanAdvisories(plan.id);
                state.retry();
              } catch (error) {
                setCheckError(errorMessage(error));
              } finally {
                setChecking(false);
              }
            }}
          >
            Check now
          </PermissionButton>
        </Box>
      }
    >
      {body}
    </InfoCard>
  );
}
