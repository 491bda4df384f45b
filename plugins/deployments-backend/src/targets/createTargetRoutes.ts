import {
  deploymentsTargetCreatePermission,
  deploymentsTargetDeletePermission,
  deploymentsTargetReadPermission,
  deploymentsTargetTestPermission,
  deploymentsTargetUpdatePermission,
} from '@kubedeploy/plugin-deployments-common';
import { targetPermissionRules } from '../permissions/targetPermissionRules';
import { ApiRouter, RouteContext } from '../routes';
import { TargetService } from './TargetService';

/** Targets' HTTP surface; the rules live in TargetService. */
export function createTargetRoutes(
  router: ApiRouter,
  context: RouteContext & { targets: TargetService },
) {
  const { httpAuth, authorizer, audit, targets } = context;

  router.get('/targets', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const page = await audit.run(
      {
        eventId: 'target-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        const visible = await authorizer.filterFor(
          credentials,
          deploymentsTargetReadPermission,
          targetPermissionRules,
        );
        // Targets are few; filtering the loaded rows applies every rule exactly.
        const all = await targets.listStored();
        const allowed = all.filter(visible);
        const offset = req.query.offset ?? 0;
        const limit = req.query.limit ?? 100;
        return {
          items: allowed
            .slice(offset, offset + limit)
            .map(t => targets.toApi(t)),
          totalCount: allowed.length,
        };
      },
    );
    res.json(page);
  });

  router.post('/targets', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { credentials: credentialInput, ...settings } = req.body;
    const target = await audit.run(
      {
        eventId: 'target-create',
        severityLevel: 'high',
        request: req,
        credentials,
        subject: req.body.name,
        meta: { authKind: credentialInput.authKind },
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsTargetCreatePermission,
        );
        return targets.create(
          {
            ...settings,
            credentials: targets.credentialsInput(credentialInput),
          },
          credentials.principal.userEntityRef,
        );
      },
    );
    res.status(201).json(target);
  });

  router.get('/targets/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const { name } = req.params;
    const target = await audit.run(
      {
        eventId: 'target-read',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: name,
        kind: 'read',
      },
      async () => {
        await authorizer.authorizeResource(
          credentials,
          deploymentsTargetReadPermission,
          name,
        );
        return targets.get(name);
      },
    );
    res.json(target);
  });

  router.patch('/targets/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { name } = req.params;
    const target = await audit.run(
      {
        eventId: 'target-update',
        // Replacing the credential is as critical here as through PUT /credentials.
        severityLevel: req.body.credentials ? 'critical' : 'high',
        request: req,
        credentials,
        subject: name,
        meta: { fields: Object.keys(req.body) },
      },
      async () => {
        await authorizer.authorizeResource(
          credentials,
          deploymentsTargetUpdatePermission,
          name,
        );
        const { credentials: credentialInput, ...settings } = req.body;
        return targets.update(
          name,
          {
            ...settings,
            credentials:
              credentialInput && targets.credentialsInput(credentialInput),
          },
          credentials.principal.userEntityRef,
        );
      },
    );
    res.json(target);
  });

  router.put('/targets/:name/credentials', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { name } = req.params;
    const target = await audit.run(
      {
        eventId: 'target-credentials-replace',
        severityLevel: 'critical',
        request: req,
        credentials,
        subject: name,
        meta: { authKind: req.body.authKind },
      },
      async () => {
        await authorizer.authorizeResource(
          credentials,
          deploymentsTargetUpdatePermission,
          name,
        );
        return targets.replaceCredentials(
          name,
          targets.credentialsInput(req.body),
          credentials.principal.userEntityRef,
        );
      },
    );
    res.json(target);
  });

  router.delete('/targets/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { name } = req.params;
    await audit.run(
      {
        eventId: 'target-delete',
        severityLevel: 'high',
        request: req,
        credentials,
        subject: name,
      },
      async () => {
        await authorizer.authorizeResource(
          credentials,
          deploymentsTargetDeletePermission,
          name,
        );
        await targets.delete(name);
      },
    );
    res.status(204).end();
  });

  router.post('/targets/:name/test-connection', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const { name } = req.params;
    const result = await audit.run(
      {
        eventId: 'target-test-connection',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: name,
      },
      async () => {
        await authorizer.authorizeResource(
          credentials,
          deploymentsTargetTestPermission,
          name,
        );
        return targets.testConnection(name);
      },
    );
    res.json(result);
  });
}
