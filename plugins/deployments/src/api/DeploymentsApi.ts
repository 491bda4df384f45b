import { createApiRef } from '@backstage/frontend-plugin-api';
import { KeyringStatus, Target } from '@kubedeploy/plugin-deployments-common';

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
  getKeyringStatus(): Promise<KeyringStatus>;
  listTargets(options?: {
    limit?: number;
    offset?: number;
  }): Promise<{ items: Target[]; totalCount: number }>;
}

/** @public */
export const deploymentsApiRef = createApiRef<DeploymentsApi>({
  id: 'plugin.deployments.api',
});
