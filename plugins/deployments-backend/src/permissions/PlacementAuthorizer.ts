import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  deploymentsReleaseAdoptPermission,
  deploymentsTargetUsePermission,
} from '@kubedeploy/plugin-deployments-common';
import { ResourcePermission } from '@backstage/plugin-permission-common';
import {
  Placement,
  placementPermissionRules,
  placementRef,
} from './placementPermissionRules';
import { ResourceAuthorizer } from './ResourceAuthorizer';

/**
 * Who may deploy where: `deployments.target.use` and
 * `deployments.release.adopt` decided on a placement (target, namespace,
 * entity), with conditional decisions evaluated by the placement rules.
 */
export class PlacementAuthorizer {
  private constructor(private readonly authorizer: ResourceAuthorizer) {}

  static create(options: { authorizer: ResourceAuthorizer }) {
    return new PlacementAuthorizer(options.authorizer);
  }

  /** Throws NotAllowedError unless the caller may deploy the entity there. */
  async authorizeUse(
    credentials: BackstageCredentials,
    placement: Placement,
  ): Promise<void> {
    await this.check(credentials, deploymentsTargetUsePermission, placement);
  }

  /** Throws NotAllowedError unless the caller may take over a release the portal did not create there. */
  async authorizeAdoption(
    credentials: BackstageCredentials,
    placement: Placement,
  ): Promise<void> {
    await this.check(credentials, deploymentsReleaseAdoptPermission, placement);
  }

  private async check(
    credentials: BackstageCredentials,
    permission: ResourcePermission<'deployments-placement'>,
    placement: Placement,
  ) {
    await this.authorizer.authorizeLoaded(
      credentials,
      permission,
      placement,
      placementPermissionRules,
      `namespace "${placement.namespace}" of target "${
        placement.target.name
      }" for ${placement.entityRef} (${placementRef(placement)})`,
    );
  }
}
