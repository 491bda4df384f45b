import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

// Sign-in: the guest provider, for local use only.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
// Other local users (auth.providers.local-*), e.g. a second person approving.
backend.add(import('./authModuleLocalUsers'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);

backend.add(import('@backstage/plugin-permission-backend'));
// The example deployments policy: owners deploy into their group's namespaces
// on non-production targets, the platform group everywhere.
backend.add(
  import('@kubedeploy/plugin-permission-backend-module-deployments-policy'),
);

backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

// Ours: the deployments plugin and its scaffolder actions.
backend.add(import('@kubedeploy/plugin-deployments-backend'));
backend.add(import('@kubedeploy/plugin-scaffolder-backend-module-deployments'));

backend.start();
