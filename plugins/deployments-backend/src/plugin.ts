import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { deploymentsPermissions } from '@kubedeploy/plugin-deployments-common';
import {
  DeploymentPreflightCheck,
  deploymentsPreflightExtensionPoint,
} from '@kubedeploy/plugin-deployments-node';
import { AdvisoryService } from './advisories/AdvisoryService';
import { DatabaseAdvisoryStore } from './advisories/DatabaseAdvisoryStore';
import { ApprovalService } from './approvals/ApprovalService';
import { DatabaseApprovalStore } from './approvals/DatabaseApprovalStore';
import { AuditTrail } from './audit/AuditTrail';
import { ChangeWindowGate } from './changeWindows/ChangeWindowGate';
import { ChartService } from './charts/ChartService';
import { DatabaseChartStore } from './charts/DatabaseChartStore';
import { RegistryCredentialService } from './charts/RegistryCredentialService';
import { outboundPoliciesFromConfig } from './charts/oci/outboundPoliciesFromConfig';
import { DatabaseAuditStore } from './audit/DatabaseAuditStore';
import { migrateDatabase } from './database/migrateDatabase';
import { DatabaseKeyringStore } from './keyring/DatabaseKeyringStore';
import { KeyringService } from './keyring/KeyringService';
import { ResourceAuthorizer } from './permissions/ResourceAuthorizer';
import { PlacementAuthorizer } from './permissions/PlacementAuthorizer';
import { ProfileAuthorizer } from './permissions/ProfileAuthorizer';
import {
  profilePermissionRules,
  profileResourceRef,
} from './permissions/profilePermissionRules';
import {
  parsePlacementRef,
  placementPermissionRules,
  placementResourceRef,
} from './permissions/placementPermissionRules';
import { ownerOf } from './plans/ownerOf';
import {
  targetPermissionRules,
  targetResourceRef,
} from './permissions/targetPermissionRules';
import { DatabaseProfileStore } from './profiles/DatabaseProfileStore';
import { ProfileService } from './profiles/ProfileService';
import { createRouter } from './router';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { LogStreamLimiter } from './cluster/LogStreamLimiter';
import { HealthService } from './health/HealthService';
import { HelmRunner } from './helm';
import { DeploymentsMetrics } from './metrics/DeploymentsMetrics';
import { DeploymentNotifier } from './notifications/DeploymentNotifier';
import { NotificationSender } from './notifications/NotificationSender';
import { DatabaseOperationStore } from './operations/DatabaseOperationStore';
import { OperationRunner } from './operations/OperationRunner';
import { PlanOperationService } from './operations/PlanOperationService';
import {
  ReleaseInspector,
  readQuietLogCheck,
} from './operations/ReleaseInspector';
import { readPositiveSeconds } from './lib/configDurations';
import { ReleaseSyncReader } from './operations/ReleaseSyncReader';
import { DatabasePlanStore } from './plans/DatabasePlanStore';
import { ReleaseRevisionReader } from './releaseHistory/ReleaseRevisionReader';
import { RetentionTask } from './retention/RetentionTask';
import { PlanOwnerSync } from './plans/PlanOwnerSync';
import { PlanService } from './plans/PlanService';
import {
  planPermissionRules,
  planResourceRef,
} from './permissions/planPermissionRules';
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
        auth: coreServices.auth,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.rootLifecycle,
        discovery: coreServices.discovery,
        catalog: catalogServiceRef,
        signals: signalsServiceRef,
        notifications: notificationService,
        metrics: metricsServiceRef,
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
        auth,
        scheduler,
        lifecycle,
        discovery,
        catalog,
        signals,
        notifications,
        metrics,
      }) {
        const db = await migrateDatabase(database);
        const deploymentsMetrics = DeploymentsMetrics.create({
          metrics,
          logger,
        });

        const outbound = outboundPoliciesFromConfig({
          config,
          ownBaseUrl: await discovery.getBaseUrl('deployments'),
        });
        const planStore = DatabasePlanStore.create(db);
        const profileStore = DatabaseProfileStore.create(db);
        const keyring = KeyringService.create({
          store: DatabaseKeyringStore.create(db),
          logger,
          // Lets this replica follow an unlock made on another one.
          passphrase: config.getOptionalString(
            'deployments.keyring.passphrase',
          ),
        });
        const secrets = SecretsService.create({ keyring });
        const targets = TargetService.create({
          store: DatabaseTargetStore.create(db),
          secrets,
          inClusterServiceAccountDir: config.getOptionalString(
            'deployments.inCluster.serviceAccountDir',
          ),
          usage: targetId => planStore.idsUsing('target_id', targetId),
          checkUrl: url => outbound.targets.check(url),
          checkUrlOnWrite: url =>
            outbound.targets.check(url, { unresolved: 'allow' }),
          connectLookup: port => outbound.targets.lookupFor(port),
        });
        const auditStore = DatabaseAuditStore.create(db);
        const registries = RegistryCredentialService.create({ db, secrets });
        const charts = ChartService.create({
          store: DatabaseChartStore.create(db),
          credentialsFor: host => registries.credentialsFor(host),
          usage: async chartId => {
            const profileCount = await profileStore.countForChart(chartId);
            const plans = await planStore.idsUsing('chart_id', chartId);
            return [
              ...(profileCount > 0
                ? [`${profileCount} values profile(s)`]
                : []),
              ...plans.map(p => `plan ${p}`),
            ];
          },
          outboundPolicy: outbound.registries,
          allowPlainHttp: outbound.allowPlainHttp,
          registrationTimeoutMs: readPositiveSeconds(
            config,
            'deployments.registries.registrationTimeoutSeconds',
            120,
          ),
        });

        const profiles = ProfileService.create({
          store: profileStore,
          charts,
          secrets,
          usage: profileId => planStore.idsUsing('profile_id', profileId),
        });
        const operationStore = DatabaseOperationStore.create(db);
        // Everything told to people goes through this one service.
        const notifier = DeploymentNotifier.create({
          sender: NotificationSender.create({ notifications, logger }),
          signals,
          plans: planStore,
          operations: operationStore,
          platformRefs:
            config.getOptionalStringArray(
              'deployments.notifications.platform',
            ) ?? config.getOptionalStringArray('deployments.approvals.notify'),
          logger,
        });
        const operationsConfig = config.getOptionalConfig(
          'deployments.operations',
        );
        const runner = OperationRunner.create({
          store: operationStore,
          logger,
          heartbeatMs:
            (operationsConfig?.getOptionalNumber('heartbeatSeconds') ?? 5) *
            1000,
          staleAfterMs:
            (operationsConfig?.getOptionalNumber('staleAfterSeconds') ?? 30) *
            1000,
          // Lets open pages of the people concerned follow operations live.
          listener: update => notifier.publishOperationUpdate(update),
          onRefused: kind => deploymentsMetrics.operationRefused(kind),
        });
        const authorizer = ResourceAuthorizer.create({
          permissions,
          logger,
          timeoutMs: config.getOptionalNumber(
            'deployments.permissions.timeoutMs',
          ),
        });
        const placements = PlacementAuthorizer.create({ authorizer });
        const profileUse = ProfileAuthorizer.create({
          authorizer,
          profiles: id => profiles.findStored(id),
        });
        const plans = PlanService.create({
          placements,
          profileUse,
          store: planStore,
          charts,
          targets,
          profiles,
          catalog,
          running: found => operationStore.runningFor(found),
        });
        // Decrypted kubeconfigs a crashed backend left behind go now, not at first use of helm.
        HelmRunner.removeLeftovers({ logger }).catch(error =>
          logger.warn('Could not remove leftover helm run directories', {
            error: String(error),
          }),
        );
        // helm is found (and its version detected) on first use, so a
        // backend without helm still serves everything else.
        let helmRunner: Promise<HelmRunner> | undefined;
        let startedHelm: HelmRunner | undefined; // read by the metrics
        const helm = () => {
          helmRunner ??= HelmRunner.create({
            logger,
            helmBinary: config.getOptionalString('deployments.helm.binary'),
            maxConcurrent: config.getOptionalNumber(
              'deployments.helm.maxConcurrent',
            ),
            memoryLimitMiB: config.getOptionalNumber(
              'deployments.helm.memoryLimitMiB',
            ),
            onSlotWait: waitedMs => deploymentsMetrics.helmSlotWaited(waitedMs),
          })
            .then(created => (startedHelm = created))
            .catch(error => {
              helmRunner = undefined;
              throw error;
            });
          return helmRunner;
        };
        const audit = AuditTrail.create({ auditor, store: auditStore, logger });
        const logStreams = LogStreamLimiter.create({
          maxPerUser: config.getOptionalNumber(
            'deployments.logs.maxStreamsPerUser',
          ),
        });
        const releases = ReleaseInspector.create({
          targets,
          helm,
          store: operationStore,
          logStreams,
          quietLogCheck: readQuietLogCheck(config),
        });
        const releaseRevisions = ReleaseRevisionReader.create({
          targets,
          helm,
          store: operationStore,
          plans: planStore,
          charts,
          profiles,
        });
        const releaseSync = ReleaseSyncReader.create({
          targets,
          helm,
          store: operationStore,
          charts,
          profiles,
        });
        const advisoriesConfig = config.getOptionalConfig(
          'deployments.advisories',
        );
        const advisories = AdvisoryService.create({
          store: DatabaseAdvisoryStore.create(db),
          plans,
          charts,
          profiles,
          images: plan => releases.images(plan),
          releaseRecords: plan =>
            operationStore.listReleases({
              targetId: plan.targetId,
              namespace: plan.namespace,
              releaseName: plan.releaseName,
            }),
          logger,
          includePrereleases:
            advisoriesConfig?.getOptionalBoolean('includePrereleases') ?? false,
          defaultRegistry:
            advisoriesConfig?.getOptionalString('defaultRegistry'),
          // The entity's owners hear of each new advisory once.
          announce: notice => notifier.notifyAdvisory(notice),
        });
        const currentInputsHash: {
          of?: PlanOperationService['currentInputsHash'];
        } = {};
        const approvals = ApprovalService.create({
          store: DatabaseApprovalStore.create(db),
          plans,
          targets,
          operations: operationStore,
          // The operations service is created below with this gate; it is
          // asked only per request, once both exist.
          inputsHashOf: (planId, caller) =>
            currentInputsHash.of!(planId, caller),
          ttlMinutes:
            config.getOptionalNumber('deployments.approvals.ttlMinutes') ??
            1440,
          notify: config.getOptionalStringArray('deployments.approvals.notify'),
          notifications,
          logger,
        });
        const planOperations = PlanOperationService.create({
          plans,
          targets,
          charts,
          profiles,
          helm,
          runner,
          store: operationStore,
          logger,
          extraChecks: preflightChecks,
          placements,
          // A closed window refuses before an approval is used up.
          gates: [ChangeWindowGate.create({ authorizer, audit }), approvals],
          profileUse,
          valuesChangeOf: inputs => releaseRevisions.dryRunValuesChange(inputs),
          onFinished: async operation => {
            releases.forget(operation);
            deploymentsMetrics.operationFinished(operation);
            await audit.recordOutcome({
              eventId: `plan-${operation.kind}-finished`,
              severityLevel:
                operation.kind === 'dry-run' || operation.kind === 'preflight'
                  ? 'medium'
                  : 'high',
              actor: operation.actor,
              subject: operation.planId,
              outcome:
                operation.status === 'succeeded' ? 'succeeded' : 'failed',
              message: operation.error,
              meta: {
                operationId: operation.id,
                planRevision: operation.planRevision,
                inputsHash: operation.inputsHash,
                status: operation.status,
                target: operation.targetName,
                namespace: operation.namespace,
                releaseName: operation.releaseName,
              },
            });
            await notifier.operationFinished(operation);
          },
        });
        currentInputsHash.of = (planId, caller) =>
          planOperations.currentInputsHash(planId, caller);
        const health = HealthService.create({
          db,
          keyring,
          targets,
          plans: planStore,
          operations: operationStore,
          logger,
          onReachabilityChange: change => notifier.targetReachability(change),
        });
        deploymentsMetrics.observe({
          helm: () => startedHelm?.usage,
          logStreams: () => logStreams.activeStreams(),
          keyringState: async () => (await keyring.status()).state,
          reachability: () => health.reachability(),
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
        permissionsRegistry.addResourceType({
          resourceRef: planResourceRef,
          permissions: deploymentsPermissions.filter(
            p =>
              p.type === 'resource' &&
              p.resourceType === planResourceRef.resourceType,
          ),
          rules: Object.values(planPermissionRules),
          getResources: ids => plans.getStoredByIds(ids),
        });
        permissionsRegistry.addResourceType({
          resourceRef: profileResourceRef,
          permissions: deploymentsPermissions.filter(
            p =>
              p.type === 'resource' &&
              p.resourceType === profileResourceRef.resourceType,
          ),
          rules: Object.values(profilePermissionRules),
          getResources: ids => profiles.getStoredByIds(ids),
        });
        permissionsRegistry.addResourceType({
          resourceRef: placementResourceRef,
          permissions: deploymentsPermissions.filter(
            p =>
              p.type === 'resource' &&
              p.resourceType === placementResourceRef.resourceType,
          ),
          rules: Object.values(placementPermissionRules),
          // For other plugins asking about a placement by its ref; the
          // entity's owner is read from the catalog as this plugin.
          getResources: async refs => {
            const credentials = await auth.getOwnServiceCredentials();
            return Promise.all(
              refs.map(async ref => {
                const parsed = parsePlacementRef(ref);
                if (!parsed) return undefined;
                const [target] = await targets.getStoredByNames([
                  parsed.targetName,
                ]);
                const entity = await catalog
                  .getEntityByRef(parsed.entityRef, { credentials })
                  .catch(() => undefined);
                return target && entity
                  ? {
                      target,
                      namespace: parsed.namespace,
                      entityRef: parsed.entityRef,
                      entityOwner: ownerOf(entity),
                    }
                  : undefined;
              }),
            );
          },
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
              logger.info('Keyring unlocked from configuration', {
                fingerprint: status.fingerprint ?? null,
              });
            } catch (error) {
              logger.error('Keyring auto-unlock failed; it stays sealed', {
                errorName: (error as Error).name,
              });
            }
          }
        }

        // Nothing deploys until someone unlocks it: the platform group hears of it.
        const startStatus = await keyring.status();
        if (startStatus.state === 'sealed') {
          await notifier.keyringSealed(startStatus.fingerprint);
        }

        // Seals, rotations and unlocks made on other replicas reach this one
        // within seconds, even while it is idle.
        keyring.start();
        lifecycle.addShutdownHook(() => keyring.stop());

        // Operations of a process that died are found at start and every
        // minute after, by whichever replica runs the task.
        await planOperations.sweepInterrupted().catch(error =>
          logger.warn('Sweeping interrupted operations failed', {
            error: String(error),
          }),
        );
        await scheduler.scheduleTask({
          id: 'deployments-sweep-interrupted-operations',
          frequency: {
            seconds:
              operationsConfig?.getOptionalNumber('sweepIntervalSeconds') ?? 60,
          },
          timeout: { minutes: 5 },
          initialDelay: { seconds: 10 },
          fn: async () => {
            await planOperations.sweepInterrupted();
          },
        });
        await scheduler.scheduleTask({
          id: 'deployments-probe-targets',
          frequency: {
            seconds:
              config.getOptionalNumber(
                'deployments.health.probeIntervalSeconds',
              ) ?? 60,
          },
          timeout: { minutes: 2 },
          initialDelay: { seconds: 5 },
          fn: () => health.probeTargets(),
        });
        // Ownership changes in the catalog reach the ownership rule without
        // anyone editing the plans.
        const ownerSync = PlanOwnerSync.create({
          store: planStore,
          catalog,
          auth,
          logger,
        });
        await scheduler.scheduleTask({
          id: 'deployments-sync-plan-owners',
          frequency: {
            seconds:
              config.getOptionalNumber(
                'deployments.plans.ownerSyncIntervalSeconds',
              ) ?? 300,
          },
          timeout: { minutes: 5 },
          initialDelay: { seconds: 30 },
          fn: async () => {
            await ownerSync.syncOwners();
          },
        });
        // Old audit entries and operation lines go in bounded batches, on
        // whichever replica the scheduler picks.
        const retention = RetentionTask.fromConfig(config, {
          db,
          logger,
          audit,
        });
        await scheduler.scheduleTask({
          id: 'deployments-retention',
          ...retention.schedule,
          fn: async () => {
            await retention.run();
          },
        });
        // Newer versions of what deployed releases run: once across replicas.
        if (advisoriesConfig?.getOptionalBoolean('enabled') ?? true) {
          await scheduler.scheduleTask({
            id: 'deployments-check-advisories',
            scope: 'global',
            frequency: {
              minutes:
                advisoriesConfig?.getOptionalNumber('checkIntervalMinutes') ??
                60,
            },
            timeout: { minutes: 30 },
            initialDelay: {
              seconds:
                advisoriesConfig?.getOptionalNumber('initialDelaySeconds') ??
                120,
            },
            fn: async () => {
              await advisories.checkAll();
            },
          });
        }
        lifecycle.addShutdownHook(() => runner.stop());

        httpRouter.use(
          await createRouter({
            httpAuth,
            authorizer,
            audit,
            keyring,
            targets,
            charts,
            profiles,
            plans,
            planOperations,
            releases,
            releaseRevisions,
            releaseSync,
            runner,
            operationStore,
            health,
            registries,
            auditStore,
            approvals,
            advisories,
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
