/**
 * An example permission policy for the deployments plugin, installed as a
 * module of the permission backend.
 *
 * @packageDocumentation
 */

export { permissionModuleDeploymentsPolicy as default } from './module';
export {
  DeploymentsExamplePolicy,
  DEFAULT_PLATFORM_GROUP,
} from './DeploymentsExamplePolicy';
export type { DeploymentsExamplePolicyOptions } from './DeploymentsExamplePolicy';
