import { createRouteRef } from '@backstage/core-plugin-api';

// Mount points of the legacy entity tabs (EntityLayout.Route elements).
export const entityPlanRouteRef = createRouteRef({
  id: 'deployments:entity-plan',
});
export const entityDryRunRouteRef = createRouteRef({
  id: 'deployments:entity-dry-run',
});
export const entityLogsRouteRef = createRouteRef({
  id: 'deployments:entity-logs',
});
