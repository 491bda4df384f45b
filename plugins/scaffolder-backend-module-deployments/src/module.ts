import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { createPlanAction } from './actions/createPlan';
import { createDeriveReleaseNameAction } from './actions/deriveReleaseName';

/**
 * Adds the deployments actions to the scaffolder.
 *
 * @public
 */
export const scaffolderModuleDeployments = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'deployments',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
      },
      async init({ scaffolder, discovery, auth }) {
        scaffolder.addActions(
          createDeriveReleaseNameAction(),
          createPlanAction({ discovery, auth }),
        );
      },
    });
  },
});
