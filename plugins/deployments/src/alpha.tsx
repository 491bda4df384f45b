import { convertLegacyRouteRef } from '@backstage/core-compat-api';
import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
  SubPageBlueprint,
} from '@backstage/frontend-plugin-api';
import RocketIcon from '@material-ui/icons/FlightTakeoff';
import { deploymentsApiRef } from './api/DeploymentsApi';
import { DeploymentsClient } from './api/DeploymentsClient';
import { rootRouteRef as legacyRootRouteRef } from './routes';
import {
  entityAdvisoriesCard,
  entityDeploymentsCard,
  entityDryRunContent,
  entityLogsContent,
  entityPlanContent,
} from './alpha/entityContents';

// One route ref for both systems, so components (the status banner's link)
// resolve it with the same `useRouteRef` call wherever they render.
const rootRouteRef = convertLegacyRouteRef(legacyRootRouteRef);

const deploymentsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: deploymentsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new DeploymentsClient({ discoveryApi, fetchApi }),
    }),
});

/**
 * The page; its tabs are the sub-pages in the order the plugin lists them,
 * and `/deployments` opens the first: Operations, what most people come for.
 */
const deploymentsPage = PageBlueprint.make({
  params: {
    path: '/deployments',
    title: 'Deployments',
    icon: <RocketIcon />,
    routeRef: rootRouteRef,
  },
});

const keyringSubPage = SubPageBlueprint.make({
  name: 'keyring',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'keyring',
    title: 'Keyring',
    loader: () =>
      import('./components/DeploymentsPage').then(m => (
        <m.DeploymentsSubPage>
          <m.KeyringPage />
        </m.DeploymentsSubPage>
      )),
  },
});

const targetsSubPage = SubPageBlueprint.make({
  name: 'targets',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'targets',
    title: 'Targets',
    loader: () =>
      import('./components/DeploymentsPage').then(m => (
        <m.DeploymentsSubPage>
          <m.TargetsPage />
        </m.DeploymentsSubPage>
      )),
  },
});

const chartsSubPage = SubPageBlueprint.make({
  name: 'charts',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'charts',
    title: 'Charts',
    loader: () =>
      import('./components/DeploymentsPage').then(m => (
        <m.DeploymentsSubPage>
          <m.ChartsPage />
        </m.DeploymentsSubPage>
      )),
  },
});

const profilesSubPage = SubPageBlueprint.make({
  name: 'profiles',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'profiles',
    title: 'Profiles',
    loader: () =>
      Promise.all([
        import('./components/DeploymentsPage'),
        import('./components/ProfilesPage'),
      ]).then(([page, profiles]) => (
        <page.DeploymentsSubPage>
          <profiles.ProfilesPage />
        </page.DeploymentsSubPage>
      )),
  },
});

const operationsSubPage = SubPageBlueprint.make({
  name: 'operations',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'operations',
    title: 'Operations',
    loader: () =>
      import('./components/DeploymentsPage').then(m => (
        <m.DeploymentsSubPage>
          <m.OperationsPage />
        </m.DeploymentsSubPage>
      )),
  },
});

const auditSubPage = SubPageBlueprint.make({
  name: 'audit',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'audit',
    title: 'Audit trail',
    loader: () =>
      import('./components/DeploymentsPage').then(m => (
        <m.DeploymentsSubPage>
          <m.AuditPage />
        </m.DeploymentsSubPage>
      )),
  },
});

const advisoriesSubPage = SubPageBlueprint.make({
  name: 'advisories',
  attachTo: { id: 'page:deployments', input: 'pages' },
  params: {
    path: 'advisories',
    title: 'Advisories',
    loader: () =>
      import('./components/DeploymentsPage').then(m => (
        <m.DeploymentsSubPage>
          <m.AdvisoriesPage />
        </m.DeploymentsSubPage>
      )),
  },
});

/**
 * The deployments plugin for the new frontend system.
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'deployments',
  info: { packageJson: () => import('../package.json') },
  extensions: [
    deploymentsApi,
    deploymentsPage,
    operationsSubPage,
    keyringSubPage,
    targetsSubPage,
    chartsSubPage,
    profilesSubPage,
    auditSubPage,
    advisoriesSubPage,
    entityPlanContent,
    entityDryRunContent,
    entityLogsContent,
    entityDeploymentsCard,
    entityAdvisoriesCard,
  ],
  routes: { root: rootRouteRef },
});
