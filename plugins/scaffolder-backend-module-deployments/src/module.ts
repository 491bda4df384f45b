import { createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
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
      deps: { scaffolder: scaffolderActionsExtensionPoint },
      async init({ scaffolder }) {
        scaffolder.addActions(createDeriveReleaseNameAction());
      },
    });
  },
});
