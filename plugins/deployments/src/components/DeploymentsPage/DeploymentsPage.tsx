import { Content, Header, Page } from '@backstage/core-components';
import Grid from '@material-ui/core/Grid';
import { KeyringCard } from './KeyringCard';
import { TargetsTable } from './TargetsTable';

/**
 * The deployments admin page: keyring and targets (charts, profiles and the
 * audit trail follow).
 * @public
 */
export function DeploymentsPage() {
  return (
    <Page themeId="tool">
      <Header
        title="Deployments"
        subtitle="Keyring, targets, charts and values profiles for Helm releases"
      />
      <Content>
        <Grid container spacing={3}>
          <Grid item xs={12} md={5}>
            <KeyringCard />
          </Grid>
          <Grid item xs={12}>
            <TargetsTable />
          </Grid>
        </Grid>
      </Content>
    </Page>
  );
}
