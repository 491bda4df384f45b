import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { DeploymentsExamplePolicy } from './DeploymentsExamplePolicy';

/**
 * Installs the example deployments policy as the permission backend's
 * policy. Configure it with `permission.deployments.platformGroup`.
 *
 * @public
 */
export const permissionModuleDeploymentsPolicy = createBackendModule({
  pluginId: 'permission',
  moduleId: 'deployments-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ policy, config, logger }) {
        if (config.has('permission.deployments.productionTargets')) {
          logger.warn(
            'permission.deployments.productionTargets is no longer read: mark production targets with their "production" setting',
          );
        }
        policy.setPolicy(DeploymentsExamplePolicy.fromConfig(config));
      },
    });
  },
});
