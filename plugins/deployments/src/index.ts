/**
 * The deployments frontend plugin. Apps on the new frontend system import
 * `@kubedeploy/plugin-deployments/alpha`; these exports serve legacy apps.
 *
 * @packageDocumentation
 */

export { deploymentsPlugin, DeploymentsPage } from './plugin';
export { deploymentsApiRef, type DeploymentsApi } from './api/DeploymentsApi';
export { DeploymentsClient } from './api/DeploymentsClient';
