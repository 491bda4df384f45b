import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  deploymentsHealthReadPermission,
  deploymentsPlanReadPermission,
} from '@kubedeploy/plugin-deployments-common';
import { planPermissionRules } from '../permissions/planPermissionRules';
import { NO_PLANS } from '../plans/DatabasePlanStore';
import { ApiRouter, RouteContext } from '../routes';
import { HealthService, PlanReadScope } from './HealthService';

/** The liveness check (no credentials) and the status banner's summary. */
export function createHealthRoutes(
  router: ApiRouter,
  context: RouteContext & { health: HealthService },
) {
  const { httpAuth, authorizer, health } = context;

  /**
   * The caller's plan read decision, translated to SQL exactly as for
   * `GET /plans`; a denial hides the releases instead of the whole banner.
   */
  const planReadScope = async (
    credentials: BackstageCredentials,
  ): Promise<PlanReadScope> => {
    try {
      const filter = await authorizer.queryFor(
        credentials,
        deploymentsPlanReadPermission,
        planPermissionRules,
        NO_PLANS,
      );
      return filter ?? 'all';
    } catch (error) {
      if ((error as Error).name === 'NotAllowedError') return 'none';
      throw error;
    }
  };

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Polled every few seconds by every open portal page: authorized, not audited.
  router.get('/health/summary', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    // Both decisions at once: the banner is polled.
    const [, scope] = await Promise.all([
      authorizer.authorize(credentials, deploymentsHealthReadPermission),
      planReadScope(credentials),
    ]);
    res.json(await health.summary(scope));
  });
}
