/**
 * Scaffolder actions of the deployments plugin.
 *
 * @packageDocumentation
 */

export { scaffolderModuleDeployments as default } from './module';
export { createDeriveReleaseNameAction } from './actions/deriveReleaseName';
export { createPlanAction } from './actions/createPlan';
