import express from 'express';
import { AdvisoryService } from './advisories/AdvisoryService';
import { createAdvisoryRoutes } from './advisories/createAdvisoryRoutes';
import { ApprovalService } from './approvals/ApprovalService';
import { createApprovalRoutes } from './approvals/createApprovalRoutes';
import { createAuditRoutes } from './audit/createAuditRoutes';
import { createChangeWindowRoutes } from './changeWindows/createChangeWindowRoutes';
import { ChartService } from './charts/ChartService';
import { createChartRoutes } from './charts/createChartRoutes';
import { createRegistryRoutes } from './charts/createRegistryRoutes';
import { RegistryCredentialService } from './charts/RegistryCredentialService';
import { DatabaseAuditStore } from './audit/DatabaseAuditStore';
import { refuseNulCharacters } from './lib/refuseNulCharacters';
import { createKeyringRoutes } from './keyring/createKeyringRoutes';
import { KeyringService } from './keyring/KeyringService';
import { createHealthRoutes } from './health/createHealthRoutes';
import { HealthService } from './health/HealthService';
import { createOperationRoutes } from './operations/createOperationRoutes';
import { DatabaseOperationStore } from './operations/DatabaseOperationStore';
import { OperationRunner } from './operations/OperationRunner';
import { PlanOperationService } from './operations/PlanOperationService';
import { ReleaseInspector } from './operations/ReleaseInspector';
import { ReleaseRevisionReader } from './releaseHistory/ReleaseRevisionReader';
import { createPlanRoutes } from './plans/createPlanRoutes';
import { PlanService } from './plans/PlanService';
import { ReleaseSyncReader } from './operations/ReleaseSyncReader';
import { createProfileRoutes } from './profiles/createProfileRoutes';
import { ProfileService } from './profiles/ProfileService';
import { RouteContext } from './routes';
import { createOpenApiRouter } from './schema/openapi';
import { createTargetRoutes } from './targets/createTargetRoutes';
import { TargetService } from './targets/TargetService';

export interface RouterOptions extends RouteContext {
  keyring: KeyringService;
  targets: TargetService;
  charts: ChartService;
  profiles: ProfileService;
  plans: PlanService;
  planOperations: PlanOperationService;
  releases: ReleaseInspector;
  releaseRevisions: ReleaseRevisionReader;
  runner: OperationRunner;
  operationStore: DatabaseOperationStore;
  releaseSync: ReleaseSyncReader;
  health: HealthService;
  registries: RegistryCredentialService;
  auditStore: DatabaseAuditStore;
  approvals: ApprovalService;
  advisories: AdvisoryService;
}

// Backups are uploaded as JSON; everything else is small.
const smallJson = express.json({ limit: '1mb' });
const backupJson = express.json({ limit: '16mb' });

/** Mounts the routes of every domain; the domains own their handlers. */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const router = await createOpenApiRouter({
    middleware: [
      (req, res, next) =>
        (/^\/keyring\/(restore|backup\/verify)$/.test(req.path)
          ? backupJson
          : smallJson)(req, res, next),
      refuseNulCharacters,
    ],
  });

  createHealthRoutes(router, options);
  createKeyringRoutes(router, options);
  createTargetRoutes(router, options);
  createChartRoutes(router, options);
  createProfileRoutes(router, options);
  createRegistryRoutes(router, options);
  createPlanRoutes(router, options);
  createChangeWindowRoutes(router, options);
  createOperationRoutes(router, options);
  createApprovalRoutes(router, options);
  createAdvisoryRoutes(router, options);
  createAuditRoutes(router, options);
  return router;
}
