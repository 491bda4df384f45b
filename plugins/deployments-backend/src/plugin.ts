import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import {
  DeploymentPreflightCheck,
  deploymentsPreflightExtensionPoint,
} from '@kubedeploy/plugin-deployments-node';
import { createRouter } from './router';

/**
 * The deployments backend plugin.
 *
 * @public
 */
export const deploymentsPlugin = createBackendPlugin({
  pluginId: 'deployments',
  register(env) {
    const preflightChecks: DeploymentPreflightCheck[] = [];
    env.registerExtensionPoint(deploymentsPreflightExtensionPoint, {
      addPreflightCheck(...checks) {
        preflightChecks.push(...checks);
      },
    });

    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        logger: coreServices.logger,
      },
      async init({ httpRouter, logger }) {
        httpRouter.use(await createRouter({ logger }));
        // Liveness only: it reveals nothing but that the plugin is up, so
        // load balancers and the stack scripts may probe it without a token.
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        logger.info(
          `deployments plugin started with ${preflightChecks.length} extra preflight checks`,
        );
      },
    });
  },
});
