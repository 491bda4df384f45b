import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { DEPLOYMENTS_PROFILE_RESOURCE_TYPE } from '@kubedeploy/plugin-deployments-common';
import { z } from 'zod';
import { ProfileFilter, StoredProfile } from '../profiles/DatabaseProfileStore';

/** The values profile resource type, for rules and conditional decisions. */
export const profileResourceRef = createPermissionResourceRef<
  StoredProfile,
  ProfileFilter
>().with({
  pluginId: 'deployments',
  resourceType: DEPLOYMENTS_PROFILE_RESOURCE_TYPE,
});

/** "Team A may use only its profiles": the profile's owner is one of the claims. */
export const isProfileOwner = createPermissionRule({
  name: 'IS_PROFILE_OWNER',
  description:
    'Allow values profiles whose owner is one of the given entity refs',
  resourceRef: profileResourceRef,
  paramsSchema: z.object({
    claims: z
      .array(z.string())
      .describe(
        'Entity refs, usually the user and their groups (the ownership claims)',
      ),
  }),
  apply: (profile, { claims }) =>
    Boolean(profile.owner && claims.includes(profile.owner)),
  toQuery: ({ claims }) => ({ owners: claims }),
});

/** Allow profiles by chart, e.g. every profile of a shared base chart. */
export const hasProfileChart = createPermissionRule({
  name: 'HAS_PROFILE_CHART',
  description:
    'Allow values profiles of charts with one of the given names (any version)',
  resourceRef: profileResourceRef,
  paramsSchema: z.object({
    chartNames: z
      .array(z.string())
      .describe('Chart names as in Chart.yaml, e.g. hello'),
  }),
  apply: (profile, { chartNames }) => chartNames.includes(profile.chartName),
  toQuery: ({ chartNames }) => ({ chartNames }),
});

export const profilePermissionRules = { isProfileOwner, hasProfileChart };

/**
 * Condition factories for permission policies, e.g.
 * `profileConditions.isProfileOwner({ claims: user.info.ownershipEntityRefs })`.
 */
export const {
  conditions: profileConditions,
  createConditionalDecision: createProfileConditionalDecision,
} = createConditionExports({
  resourceRef: profileResourceRef,
  rules: profilePermissionRules,
});
