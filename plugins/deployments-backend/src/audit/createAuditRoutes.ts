import { deploymentsAuditReadPermission } from '@kubedeploy/plugin-deployments-common';
import { ApiRouter, RouteContext } from '../routes';
import { DatabaseAuditStore } from './DatabaseAuditStore';

/** The audit trail the admin page shows, newest first. */
export function createAuditRoutes(
  router: ApiRouter,
  context: RouteContext & { auditStore: DatabaseAuditStore },
) {
  const { httpAuth, authorizer, audit, auditStore } = context;

  router.get('/audit', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await audit.run(
      {
        eventId: 'audit-read',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(credentials, deploymentsAuditReadPermission);
        return auditStore.list(req.query);
      },
    );
    res.json({ items });
  });
}
