import express from 'express';
import { createAuditRoutes } from './audit/createAuditRoutes';
import { ChartService } from './charts/ChartService';
import { createChartRoutes } from './charts/createChartRoutes';
import { createRegistryRoutes } from './charts/createRegistryRoutes';
import { RegistryCredentialService } from './charts/RegistryCredentialService';
import { DatabaseAuditStore } from './audit/DatabaseAuditStore';
import { createKeyringRoutes } from './keyring/createKeyringRoutes';
import { KeyringService } from './keyring/KeyringService';
import { RouteContext } from './routes';
import { createOpenApiRouter } from './schema/openapi';
import { createTargetRoutes } from './targets/createTargetRoutes';
import { TargetService } from './targets/TargetService';

export interface RouterOptions extends RouteContext {
  keyring: KeyringService;
  targets: TargetService;
  charts: ChartService;
  registries: RegistryCredentialService;
  auditStore: DatabaseAuditStore;
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
    ],
  });

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  createKeyringRoutes(router, options);
  createTargetRoutes(router, options);
  createChartRoutes(router, options);
  createRegistryRoutes(router, options);
  createAuditRoutes(router, options);
  return router;
}
