import { deploymentsHealthReadPermission } from '@kubedeploy/plugin-deployments-common';
import { ApiRouter, RouteContext } from '../routes';
import { HealthService } from './HealthService';

/** The liveness check (no credentials) and the status banner's summary. */
export function createHealthRoutes(
  router: ApiRouter,
  context: RouteContext & { health: HealthService },
) {
  const { httpAuth, authorizer, health } = context;

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Polled every few seconds by every open portal page: authorized, not audited.
  router.get('/health/summary', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    await authorizer.authorize(credentials, deploymentsHealthReadPermission);
    res.json(await health.summary());
  });
}
