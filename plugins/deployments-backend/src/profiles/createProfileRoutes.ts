import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { ResourcePermission } from '@backstage/plugin-permission-common';
import {
  deploymentsChartReadPermission,
  deploymentsProfileCreatePermission,
  deploymentsProfileDeletePermission,
  deploymentsProfileReadPermission,
  deploymentsProfileUpdatePermission,
} from '@kubedeploy/plugin-deployments-common';
import { profilePermissionRules } from '../permissions/profilePermissionRules';
import { ApiRouter, RouteContext } from '../routes';
import { NO_PROFILES } from './DatabaseProfileStore';
import { ProfileService } from './ProfileService';

/** Values profiles over HTTP; the rules live in ProfileService. */
export function createProfileRoutes(
  router: ApiRouter,
  context: RouteContext & { profiles: ProfileService },
) {
  const { httpAuth, authorizer, audit, profiles } = context;

  /** Checks a profile permission on the loaded profile (conditional rules apply). */
  const authorizeProfile = async (
    credentials: BackstageCredentials,
    permission: ResourcePermission<'deployments-profile'>,
    id: string,
  ): Promise<void> => {
    // A profile that does not exist is refused like one the user may not see.
    const profile = await profiles.findStored(id).catch(() => undefined);
    await authorizer.authorizeLoaded(
      credentials,
      permission,
      profile,
      profilePermissionRules,
      `Values profile ${id}`,
    );
  };

  /**
   * Reads: a profile the conditions hide is answered exactly like one that
   * does not exist, so its existence is not revealed either.
   */
  const authorizeProfileRead = async (
    credentials: BackstageCredentials,
    id: string,
  ): Promise<void> => {
    const visible = await authorizer.filterFor(
      credentials,
      deploymentsProfileReadPermission,
      profilePermissionRules,
    );
    const profile = await profiles.findStored(id).catch(() => undefined);
    if (!profile || !visible(profile)) {
      throw new NotFoundError(`Values profile ${id} not found`);
    }
  };

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
        // The read conditions become SQL, so pages and counts stay exact.
        const filter = await authorizer.queryFor(
          credentials,
          deploymentsProfileReadPermission,
          profilePermissionRules,
          NO_PROFILES,
        );
        return profiles.list({ ...req.query, filter });
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
        await authorizeProfileRead(credentials, req.params.id);
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
        await authorizeProfile(
          credentials,
          deploymentsProfileUpdatePermission,
          req.params.id,
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

  router.post('/profiles/:id/upgrade', async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const upgrade = await audit.run(
      {
        eventId: 'profile-upgrade',
        severityLevel: 'medium',
        request: req,
        credentials,
        subject: req.params.id,
        meta: { chartId: req.body.chartId, dryRun: req.body.dryRun === true },
      },
      async () => {
        // Writing the profile, and reading the chart it moves to.
        await authorizeProfile(
          credentials,
          deploymentsProfileUpdatePermission,
          req.params.id,
        );
        await authorizer.authorize(credentials, deploymentsChartReadPermission);
        return profiles.upgrade(
          req.params.id,
          req.body,
          credentials.principal.userEntityRef,
        );
      },
    );
    res.json(upgrade);
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
        await authorizeProfile(
          credentials,
          deploymentsProfileDeletePermission,
          req.params.id,
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
        await authorizeProfileRead(credentials, req.params.id);
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
        await authorizeProfileRead(credentials, req.params.id);
        return profiles.getRevision(req.params.id, req.params.revision);
      },
    );
    res.json(revision);
  });
}
