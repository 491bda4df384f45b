import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { DEPLOYMENTS_TARGET_RESOURCE_TYPE } from '@kubedeploy/plugin-deployments-common';
import { z } from 'zod';
import { StoredTarget, TargetFilter } from '../targets/DatabaseTargetStore';

/** The target resource type, for rules and conditional decisions. */
export const targetResourceRef = createPermissionResourceRef<
  StoredTarget,
  TargetFilter
>().with({
  pluginId: 'deployments',
  resourceType: DEPLOYMENTS_TARGET_RESOURCE_TYPE,
});

/** "team A may use only its targets": the target's owner is one of the claims. */
export const isTargetOwner = createPermissionRule({
  name: 'IS_TARGET_OWNER',
  description: 'Allow targets whose owner is one of the given entity refs',
  resourceRef: targetResourceRef,
  paramsSchema: z.object({
    claims: z
      .array(z.string())
      .describe(
        'Entity refs, usually the user and their groups (the ownership claims)',
      ),
  }),
  apply: (target, { claims }) =>
    Boolean(target.owner && claims.includes(target.owner)),
  toQuery: ({ claims }) => ({ owners: claims }),
});

/** Allow targets by name, e.g. every non-production cluster. */
export const hasTargetName = createPermissionRule({
  name: 'HAS_TARGET_NAME',
  description: 'Allow targets whose name is one of the given names',
  resourceRef: targetResourceRef,
  paramsSchema: z.object({
    names: z.array(z.string()).describe('Target names'),
  }),
  apply: (target, { names }) => names.includes(target.name),
  toQuery: ({ names }) => ({ names }),
});

export const targetPermissionRules = { isTargetOwner, hasTargetName };

/**
 * Condition factories for permission policies, e.g.
 * `targetConditions.isTargetOwner({ claims: user.info.ownershipEntityRefs })`.
 */
export const {
  conditions: targetConditions,
  createConditionalDecision: createTargetConditionalDecision,
} = createConditionExports({
  resourceRef: targetResourceRef,
  rules: targetPermissionRules,
});
