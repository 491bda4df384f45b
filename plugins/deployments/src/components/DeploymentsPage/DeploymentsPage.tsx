import {
  Content,
  Header,
  InfoCard,
  Page,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { deploymentsApiRef } from '../../api/DeploymentsApi';

/**
 * The deployments admin page: keyring, targets, charts, profiles and audit.
 * @public
 */
export function DeploymentsPage() {
  const api = useApi(deploymentsApiRef);
  const { value, loading, error } = useAsync(() => api.getLiveness(), [api]);

  let body;
  if (loading) {
    body = <Progress />;
  } else if (error) {
    body = <ResponseErrorPanel error={error} />;
  } else {
    body = (
      <InfoCard title="Deployments backend">
        <Typography>
          The deployments backend is {value?.status === 'ok' ? 'up' : 'not answering'}.
        </Typography>
      </InfoCard>
    );
  }

  return (
    <Page themeId="tool">
      <Header
        title="Deployments"
        subtitle="Keyring, targets, charts and values profiles for Helm releases"
      />
      <Content>{body}</Content>
    </Page>
  );
}
