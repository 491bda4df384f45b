import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { DeploymentsExamplePolicy } from './DeploymentsExamplePolicy';

/**
 * Installs the example deployments policy. Configure it with
 * `permission.deployments.platformGroup` and
 * `permission.deployments.productionTargets`.
 */
export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'deployments-example-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ policy, config }) {
        const settings = config.getOptionalConfig('permission.deployments');
        policy.setPolicy(
          new DeploymentsExamplePolicy({
            platformGroup:
              settings?.getOptionalString('platformGroup') ??
              'group:default/platform',
            productionTargets:
              settings?.getOptionalStringArray('productionTargets') ?? [],
          }),
        );
      },
    });
  },
});
