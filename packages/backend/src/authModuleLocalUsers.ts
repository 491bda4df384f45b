import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';

const LOCAL_PROVIDER = /^local-[a-z0-9-]+$/;

/**
 * Local sign-in as other catalog users than the guest, for trying the
 * four-eyes workflow on one machine (a second person approves) and for the
 * browser tests. Each `auth.providers.local-<name>` entry with a
 * `userEntityRef` becomes a provider that signs in as that catalog user.
 * Like the guest provider, it refuses outside development unless
 * `dangerouslyAllowOutsideDevelopment` is set; never configure it anywhere
 * real.
 */
export default createBackendModule({
  pluginId: 'auth',
  moduleId: 'local-users-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ providers, config }) {
        const configured =
          config.getOptionalConfig('auth.providers')?.keys() ?? [];
        for (const providerId of configured.filter(id =>
          LOCAL_PROVIDER.test(id),
        )) {
          const userEntityRef = config.getString(
            `auth.providers.${providerId}.userEntityRef`,
          );
          providers.registerProvider({
            providerId,
            factory: createProxyAuthProviderFactory({
              authenticator: createProxyAuthenticator({
                defaultProfileTransform: async () => ({ profile: {} }),
                initialize: ({ config: providerConfig }) =>
                  process.env.NODE_ENV !== 'development' &&
                  providerConfig.getOptionalBoolean(
                    'dangerouslyAllowOutsideDevelopment',
                  ) !== true,
                async authenticate(_, disabled) {
                  if (disabled) {
                    throw new NotAllowedError(
                      `The ${providerId} provider is for local development only`,
                    );
                  }
                  return { result: {} };
                },
              }),
              signInResolver: async (_, ctx) =>
                ctx.signInWithCatalogUser({ entityRef: userEntityRef }),
            }),
          });
        }
      },
    });
  },
});
