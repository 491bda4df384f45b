import {
  deploymentsChartReadPermission,
  deploymentsRegistryManagePermission,
} from '@kubedeploy/plugin-deployments-common';
import { ApiRouter, RouteContext } from '../routes';
import { RegistryCredentialService } from './RegistryCredentialService';

/** Registry credentials' HTTP surface: put and delete; never read back. */
export function createRegistryRoutes(
  router: ApiRouter,
  context: RouteContext & { registries: RegistryCredentialService },
) {
  const { httpAuth, authorizer, audit, registries } = context;

  router.get('/registries', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await audit.run(
      {
        eventId: 'registry-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(credentials, deploymentsChartReadPermission);
        return registries.list();
      },
    );
    res.json({ items });
  });

  router.put('/registries/:host/credentials', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { host } = req.params;
    const summary = await audit.run(
      {
        eventId: 'registry-credentials-put',
        severityLevel: 'high',
        request: req,
        credentials,
        subject: host,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsRegistryManagePermission,
        );
        return registries.put(
          host,
          req.body,
          credentials.principal.userEntityRef,
        );
      },
    );
    res.json(summary);
  });

  router.delete('/registries/:host/credentials', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { host } = req.params;
    await audit.run(
      {
        eventId: 'registry-credentials-delete',
        severityLevel: 'high',
        request: req,
        credentials,
        subject: host,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsRegistryManagePermission,
        );
        await registries.delete(host);
      },
    );
    res.status(204).end();
  });
}
