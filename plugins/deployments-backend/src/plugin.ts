import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { deploymentsPermissions } from '@kubedeploy/plugin-deployments-common';
import {
  DeploymentPreflightCheck,
  deploymentsPreflightExtensionPoint,
} from '@kubedeploy/plugin-deployments-node';
import { AuditTrail } from './audit/AuditTrail';
import { ChartService } from './charts/ChartService';
import { DatabaseChartStore } from './charts/DatabaseChartStore';
import { RegistryCredentialService } from './charts/RegistryCredentialService';
import { createOutboundPolicy } from './charts/oci/outboundPolicy';
import { DatabaseAuditStore } from './audit/DatabaseAuditStore';
import { migrateDatabase } from './database/migrateDatabase';
import { DatabaseKeyringStore } from './keyring/DatabaseKeyringStore';
import { KeyringService } from './keyring/KeyringService';
import { ResourceAuthorizer } from './permissions/ResourceAuthorizer';
import {
  targetPermissionRules,
  targetResourceRef,
} from './permissions/targetPermissionRules';
import { createRouter } from './router';
import { SecretsService } from './secrets/SecretsService';
import { DatabaseTargetStore } from './targets/DatabaseTargetStore';
import { TargetService } from './targets/TargetService';

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
        httpAuth: coreServices.httpAuth,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        database: coreServices.database,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
      },
      async init({
        httpRouter,
        httpAuth,
        logger,
        config,
        database,
        permissions,
        permissionsRegistry,
        auditor,
      }) {
        const db = await migrateDatabase(database);

        const keyring = KeyringService.create({
          store: DatabaseKeyringStore.create(db),
          logger,
        });
        const secrets = SecretsService.create({ keyring });
        const targets = TargetService.create({
          store: DatabaseTargetStore.create(db),
          secrets,
          inClusterServiceAccountDir: config.getOptionalString(
            'deployments.inCluster.serviceAccountDir',
          ),
        });
        const auditStore = DatabaseAuditStore.create(db);
        const outbound = config.getOptionalConfig('deployments.registries');
        const plainHttpHosts =
          outbound?.getOptionalStringArray('plainHttpHosts') ?? [];
        const allowLoopback =
          outbound?.getOptionalBoolean('allowLoopback') ?? false;
        const registries = RegistryCredentialService.create({ db, secrets });
        const charts = ChartService.create({
          store: DatabaseChartStore.create(db),
          credentialsFor: host => registries.credentialsFor(host),
          checkUrl: createOutboundPolicy({
            allow: outbound?.getOptionalStringArray('allow'),
            deny: outbound?.getOptionalStringArray('deny'),
            allowLoopback,
            ownHosts: [
              new URL(
                config.getOptionalString('backend.baseUrl') ??
                  'http://localhost:7007',
              ).host,
            ],
          }),
          // Plain http only for loopback registries (when loopback is allowed
          // at all) or hosts configuration explicitly marks insecure.
          allowPlainHttp: host =>
            plainHttpHosts.includes(host) ||
            (allowLoopback &&
              /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host)),
        });

        permissionsRegistry.addPermissions(deploymentsPermissions);
        permissionsRegistry.addResourceType({
          resourceRef: targetResourceRef,
          permissions: deploymentsPermissions.filter(
            p =>
              p.type === 'resource' &&
              p.resourceType === targetResourceRef.resourceType,
          ),
          rules: Object.values(targetPermissionRules),
          getResources: names => targets.getStoredByNames(names),
        });

        // Auto-unlock lets several replicas come up unlocked; the passphrase
        // normally comes from an environment variable and is never logged.
        const passphrase = config.getOptionalString(
          'deployments.keyring.passphrase',
        );
        if (passphrase) {
          const status = await keyring.status();
          if (status.state === 'uninitialized') {
            logger.warn(
              'deployments.keyring.passphrase is set but no keyring exists yet; bootstrap it first',
            );
          } else {
            try {
              await keyring.unlock(passphrase, 'configuration');
              logger.info(
                `Keyring ${status.fingerprint} unlocked from configuration`,
              );
            } catch (error) {
              logger.error(
                `Keyring auto-unlock failed: ${
                  (error as Error).name
                }; it stays sealed`,
              );
            }
          }
        }

        httpRouter.use(
          await createRouter({
            httpAuth,
            authorizer: ResourceAuthorizer.create({ permissions, logger }),
            audit: AuditTrail.create({ auditor, store: auditStore, logger }),
            keyring,
            targets,
            charts,
            registries,
            auditStore,
          }),
        );
        // Liveness only: it reveals nothing but that the plugin is up.
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        logger.info(
          `deployments plugin started with ${preflightChecks.length} extra preflight checks`,
        );
      },
    });
  },
});
