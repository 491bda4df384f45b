import { createExtensionPoint } from '@backstage/backend-plugin-api';

/**
 * What a preflight check is told about the release it checks.
 * @public
 */
export interface DeploymentPreflightContext {
  targetName: string;
  namespace: string;
  releaseName: string;
  /** The manifest Helm rendered in the dry-run, as parsed objects. */
  objects: ReadonlyArray<Record<string, unknown>>;
}

/**
 * The outcome of one preflight check. A failing check must say what to change.
 * @public
 */
export interface DeploymentPreflightResult {
  passed: boolean;
  message: string;
}

/**
 * A check that runs during preflight, next to the built-in reachability and
 * RBAC checks, for example an organisation's own admission rules.
 * @public
 */
export interface DeploymentPreflightCheck {
  /** Stable identifier, shown with the result. */
  id: string;
  title: string;
  run(context: DeploymentPreflightContext): Promise<DeploymentPreflightResult>;
}

/**
 * Extension point to add preflight checks to the deployments plugin.
 * @public
 */
export interface DeploymentsPreflightExtensionPoint {
  addPreflightCheck(...checks: DeploymentPreflightCheck[]): void;
}

/** @public */
export const deploymentsPreflightExtensionPoint =
  createExtensionPoint<DeploymentsPreflightExtensionPoint>({
    id: 'deployments.preflight',
  });
