import {
  Content,
  Header,
  Page,
  TabbedLayout,
} from '@backstage/core-components';
import { ReactNode } from 'react';
import { AdvisoriesPage } from '../Advisories';
import { AuditPage } from '../AuditPage';
import { ChartsPage } from '../ChartsPage';
import { KeyringPage } from '../KeyringPage';
import { OperationsPage } from '../OperationsPage';
import { ProfilesPage } from '../ProfilesPage';
import { DeploymentsStatusBanner } from '../StatusBanner';
import { TargetsPage } from '../TargetsPage';

/**
 * One tab of the deployments page as the new frontend system mounts it (the
 * app's plugin header draws the title and the tabs): the status banner on top.
 */
export function DeploymentsSubPage(props: { children: ReactNode }) {
  return (
    <Content>
      <DeploymentsStatusBanner />
      {props.children}
    </Content>
  );
}

/**
 * The deployments admin page for apps on the legacy frontend system:
 * operations (where it opens), keyring, targets, charts, profiles and the
 * audit trail as tabs.
 * @public
 */
export function DeploymentsPage() {
  return (
    <Page themeId="tool">
      <Header
        title="Deployments"
        subtitle="Keyring, targets, charts and operations for audited Helm releases"
      />
      <TabbedLayout>
        {/* The first tab is where /deployments opens. */}
        <TabbedLayout.Route path="/operations" title="Operations">
          <>
            <DeploymentsStatusBanner />
            <OperationsPage />
          </>
        </TabbedLayout.Route>
        <TabbedLayout.Route path="/keyring" title="Keyring">
          <>
            <DeploymentsStatusBanner />
            <KeyringPage />
          </>
        </TabbedLayout.Route>
        <TabbedLayout.Route path="/targets" title="Targets">
          <>
            <DeploymentsStatusBanner />
            <TargetsPage />
          </>
        </TabbedLayout.Route>
        <TabbedLayout.Route path="/charts" title="Charts">
          <>
            <DeploymentsStatusBanner />
            <ChartsPage />
          </>
        </TabbedLayout.Route>
        <TabbedLayout.Route path="/profiles" title="Profiles">
          <>
            <DeploymentsStatusBanner />
            <ProfilesPage />
          </>
        </TabbedLayout.Route>
        <TabbedLayout.Route path="/advisories" title="Advisories">
          <>
            <DeploymentsStatusBanner />
            <AdvisoriesPage />
          </>
        </TabbedLayout.Route>
        <TabbedLayout.Route path="/audit" title="Audit trail">
          <>
            <DeploymentsStatusBanner />
            <AuditPage />
          </>
        </TabbedLayout.Route>
      </TabbedLayout>
    </Page>
  );
}
