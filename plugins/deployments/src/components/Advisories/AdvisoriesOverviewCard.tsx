import { InfoCard, Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { deploymentsApiRef } from '../../api/DeploymentsApi';
import { errorMessage, formatTime } from '../shared';
import { AdvisoryList } from './AdvisoryList';

/** Props of {@link AdvisoriesOverviewCard}. */
export interface AdvisoriesOverviewCardProps {
  /** Only this entity's releases, e.g. `component:default/payments-api`; all readable ones without. */
  entityRef?: string;
  title?: string;
}

/**
 * Patch advisories across release plans (of one entity, or every one the
 * user may read), with the releases whose last check could not reach a
 * registry. Usable on its own, e.g. on an entity's overview.
 * @public
 */
export function AdvisoriesOverviewCard(props: AdvisoriesOverviewCardProps) {
  const { entityRef, title = 'Patch advisories' } = props;
  const api = useApi(deploymentsApiRef);
  const state = useAsyncRetry(
    () => api.listAdvisories({ entityRef }),
    [api, entityRef],
  );

  let body;
  if (state.error && !state.value) {
    body = (
      <Alert severity="error">
        Could not read the patch advisories: {errorMessage(state.error)}
      </Alert>
    );
  } else if (!state.value) {
    body = <Progress />;
  } else {
    const { items, problems } = state.value;
    const open = items.filter(a => a.state === 'open').length;
    body = (
      <>
        {problems.map(p => (
          <Alert severity="warning" key={p.planId} style={{ marginBottom: 8 }}>
            {p.releaseName}, checked {formatTime(p.checkedAt)}:{' '}
            {p.problems.map(x => `${x.source}: ${x.message}`).join('; ')}
          </Alert>
        ))}
        {items.length === 0 ? (
          <Typography variant="body2">
            No advisories: every checked release runs the newest versions its
            registries offer.
          </Typography>
        ) : (
          <>
            <Typography variant="body2" paragraph>
              {open} open, {items.length - open} dismissed
            </Typography>
            <AdvisoryList
              advisories={items}
              showRelease
              onChanged={state.retry}
            />
          </>
        )}
      </>
    );
  }
  return (
    <InfoCard
      title={title}
      subheader="Newer versions of the images and charts deployed releases run"
    >
      {body}
    </InfoCard>
  );
}
