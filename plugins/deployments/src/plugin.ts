import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { deploymentsApiRef } from './api/DeploymentsApi';
import { DeploymentsClient } from './api/DeploymentsClient';
import { rootRouteRef } from './routes';
import {
  entityDryRunRouteRef,
  entityLogsRouteRef,
  entityPlanRouteRef,
} from './entityRoutes';

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

/**
 * The Plan tab of a catalog entity (release plans, gates, operations,
 * resources and history) for apps on the legacy frontend system; mount it in
 * an `EntityLayout.Route`.
 * @public
 */
export const EntityDeploymentsPlanContent = deploymentsPlugin.provide(
  createRoutableExtension({
    name: 'EntityDeploymentsPlanContent',
    component: () =>
      import('./components/PlanTab/EntityTabs').then(m => m.EntityPlanContent),
    mountPoint: entityPlanRouteRef,
  }),
);

/**
 * The Dry-run tab of a catalog entity, for apps on the legacy frontend system.
 * @public
 */
export const EntityDeploymentsDryRunContent = deploymentsPlugin.provide(
  createRoutableExtension({
    name: 'EntityDeploymentsDryRunContent',
    component: () =>
      import('./components/PlanTab/EntityTabs').then(
        m => m.EntityDryRunContent,
      ),
    mountPoint: entityDryRunRouteRef,
  }),
);

/**
 * The Logs tab of a catalog entity, for apps on the legacy frontend system.
 * @public
 */
export const EntityDeploymentsLogsContent = deploymentsPlugin.provide(
  createRoutableExtension({
    name: 'EntityDeploymentsLogsContent',
    component: () =>
      import('./components/PlanTab/EntityTabs').then(m => m.EntityLogsContent),
    mountPoint: entityLogsRouteRef,
  }),
);

/**
 * The Overview card of a catalog entity's deployments (plans by target with
 * sync, health, last apply and pending approvals), for apps on the legacy
 * frontend system; place it in the entity's overview grid.
 * @public
 */
export const EntityDeploymentsCard = deploymentsPlugin.provide(
  createComponentExtension({
    name: 'EntityDeploymentsCard',
    component: {
      lazy: () =>
        import('./components/DeploymentsCard').then(
          m => m.EntityDeploymentsCard,
        ),
    },
  }),
);
