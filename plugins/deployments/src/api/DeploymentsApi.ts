import { createApiRef } from '@backstage/frontend-plugin-api';

/** The liveness answer of the deployments backend. @public */
export interface DeploymentsLiveness {
  status: 'ok';
}

/**
 * Talks to the deployments backend plugin.
 * @public
 */
export interface DeploymentsApi {
  getLiveness(): Promise<DeploymentsLiveness>;
}

/** @public */
export const deploymentsApiRef = createApiRef<DeploymentsApi>({
  id: 'plugin.deployments.api',
});
