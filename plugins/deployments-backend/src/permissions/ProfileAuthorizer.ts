import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { deploymentsProfileUsePermission } from '@kubedeploy/plugin-deployments-common';
import { StoredProfile } from '../profiles/DatabaseProfileStore';
import { profilePermissionRules } from './profilePermissionRules';
import { ResourceAuthorizer } from './ResourceAuthorizer';

/** Where the stored profile comes from; the profiles domain provides it. */
export type StoredProfileLookup = (
  id: string,
) => Promise<StoredProfile | undefined>;

/**
 * Who may deploy a values profile (and so its sealed secrets):
 * `deployments.profile.use` decided on the profile, with conditional
 * decisions evaluated by the profile rules.
 */
export class ProfileAuthorizer {
  private constructor(
    private readonly authorizer: ResourceAuthorizer,
    private readonly lookup: StoredProfileLookup,
  ) {}

  static create(options: {
    authorizer: ResourceAuthorizer;
    profiles: StoredProfileLookup;
  }): ProfileAuthorizer {
    return new ProfileAuthorizer(options.authorizer, options.profiles);
  }

  /**
   * Throws NotAllowedError, naming the profile and the permission, unless
   * the caller may use the profile; NotFoundError when it does not exist.
   */
  async authorizeUse(
    credentials: BackstageCredentials,
    profileId: string,
  ): Promise<void> {
    const profile = await this.lookup(profileId);
    // Named by id only: a caller who may not use it may not read its name either.
    await this.authorizer
      .authorizeLoaded(
        credentials,
        deploymentsProfileUsePermission,
        profile,
        profilePermissionRules,
        `Values profile ${profileId}`,
      )
      .catch(error => {
        throw (error as Error).name === 'NotAllowedError'
          ? new NotAllowedError(
              `Not allowed to use values profile ${profileId}: needs ${deploymentsProfileUsePermission.name}`,
            )
          : error;
      });
  }
}
