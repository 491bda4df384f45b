import {
  ApiBlueprint,
  createFrontendPlugin,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import RocketIcon from '@material-ui/icons/FlightTakeoff';
import { deploymentsApiRef } from './api/DeploymentsApi';
import { DeploymentsClient } from './api/DeploymentsClient';

const rootRouteRef = createRouteRef();

const deploymentsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: deploymentsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new DeploymentsClient({ discoveryApi, fetchApi }),
    }),
});

const deploymentsPage = PageBlueprint.make({
  params: {
    path: '/deployments',
    title: 'Deployments',
    icon: <RocketIcon />,
    routeRef: rootRouteRef,
    loader: () =>
      import('./components/DeploymentsPage').then(m => <m.DeploymentsPage />),
  },
});

/**
 * The deployments plugin for the new frontend system.
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'deployments',
  info: { packageJson: () => import('../package.json') },
  extensions: [deploymentsApi, deploymentsPage],
  routes: { root: rootRouteRef },
});
