import {
  deploymentsChartReadPermission,
  deploymentsProfileCreatePermission,
  deploymentsProfileDeletePermission,
  deploymentsProfileReadPermission,
  deploymentsProfileUpdatePermission,
} from '@kubedeploy/plugin-deployments-common';
import { ApiRouter, RouteContext } from '../routes';
import { ProfileService } from './ProfileService';

/** Values profiles over HTTP; the rules live in ProfileService. */
export function createProfileRoutes(
  router: ApiRouter,
  context: RouteContext & { profiles: ProfileService },
) {
  const { httpAuth, authorizer, audit, profiles } = context;

  router.post('/charts/:id/values/validate', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const violations = await audit.run(
      {
        eventId: 'chart-values-validate',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(credentials, deploymentsChartReadPermission);
        return profiles.validate(req.params.id, req.body);
      },
    );
    res.json({ violations });
  });

  router.get('/profiles', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const page = await audit.run(
      {
        eventId: 'profile-list',
        severityLevel: 'low',
        request: req,
        credentials,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileReadPermission,
        );
        return profiles.list(req.query);
      },
    );
    res.json(page);
  });

  router.post('/profiles', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const profile = await audit.run(
      {
        eventId: 'profile-create',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.body.name,
        // Paths only: the values may hold secrets.
        meta: { chartId: req.body.chartId, secretPaths: req.body.secretPaths },
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileCreatePermission,
        );
        return profiles.create(req.body, credentials.principal.userEntityRef);
      },
    );
    res.status(201).json(profile);
  });

  router.get('/profiles/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const profile = await audit.run(
      {
        eventId: 'profile-read',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileReadPermission,
        );
        return profiles.get(req.params.id);
      },
    );
    res.json(profile);
  });

  router.put('/profiles/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const profile = await audit.run(
      {
        eventId: 'profile-update',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
        meta: { secretPaths: req.body.secretPaths },
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileUpdatePermission,
        );
        return profiles.update(
          req.params.id,
          req.body,
          credentials.principal.userEntityRef,
        );
      },
    );
    res.json(profile);
  });

  router.delete('/profiles/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    await audit.run(
      {
        eventId: 'profile-delete',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileDeletePermission,
        );
        await profiles.delete(req.params.id);
      },
    );
    res.status(204).end();
  });

  router.get('/profiles/:id/revisions', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const items = await audit.run(
      {
        eventId: 'profile-revisions',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: req.params.id,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileReadPermission,
        );
        return profiles.listRevisions(req.params.id);
      },
    );
    res.json({ items });
  });

  router.get('/profiles/:id/revisions/:revision', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const revision = await audit.run(
      {
        eventId: 'profile-revision-read',
        severityLevel: 'low',
        request: req,
        credentials,
        subject: `${req.params.id}@${req.params.revision}`,
        kind: 'read',
      },
      async () => {
        await authorizer.authorize(
          credentials,
          deploymentsProfileReadPermission,
        );
        return profiles.getRevision(req.params.id, req.params.revision);
      },
    );
    res.json(revision);
  });
}
