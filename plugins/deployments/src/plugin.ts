import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { deploymentsApiRef } from './api/DeploymentsApi';
import { DeploymentsClient } from './api/DeploymentsClient';
import { rootRouteRef } from './routes';

/**
 * The deployments plugin for apps on the legacy frontend system.
 * @public
 */
export const deploymentsPlugin = createPlugin({
  id: 'deployments',
  apis: [
    createApiFactory({
      api: deploymentsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new DeploymentsClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { root: rootRouteRef },
});

/**
 * The deployments admin page for apps on the legacy frontend system.
 * @public
 */
export const DeploymentsPage = deploymentsPlugin.provide(
  createRoutableExtension({
    name: 'DeploymentsPage',
    component: () =>
      import('./components/DeploymentsPage').then(m => m.DeploymentsPage),
    mountPoint: rootRouteRef,
  }),
);
