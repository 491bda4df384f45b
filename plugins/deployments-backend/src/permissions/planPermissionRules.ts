import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { DEPLOYMENTS_PLAN_RESOURCE_TYPE } from '@kubedeploy/plugin-deployments-common';
import { z } from 'zod';
import { PlanFilter, StoredPlan } from '../plans/DatabasePlanStore';

/** The release plan resource type, for rules and conditional decisions. */
export const planResourceRef = createPermissionResourceRef<
  StoredPlan,
  PlanFilter
>().with({
  pluginId: 'deployments',
  resourceType: DEPLOYMENTS_PLAN_RESOURCE_TYPE,
});

/** "Owners may deploy their components": the plan's entity is owned by one of the claims. */
export const isPlanEntityOwner = createPermissionRule({
  name: 'IS_PLAN_ENTITY_OWNER',
  description:
    'Allow plans whose catalog entity is owned by one of the given entity refs',
  resourceRef: planResourceRef,
  paramsSchema: z.object({
    claims: z
      .array(z.string())
      .describe(
        'Entity refs, usually the user and their groups (the ownership claims)',
      ),
  }),
  apply: (plan, { claims }) =>
    Boolean(plan.entityOwner && claims.includes(plan.entityOwner)),
  toQuery: ({ claims }) => ({ owners: claims }),
});

/** Allow plans by target, e.g. only the non-production clusters. */
export const hasPlanTarget = createPermissionRule({
  name: 'HAS_PLAN_TARGET',
  description: 'Allow plans that deploy to one of the given targets',
  resourceRef: planResourceRef,
  paramsSchema: z.object({
    targets: z.array(z.string()).describe('Target names'),
  }),
  apply: (plan, { targets }) => targets.includes(plan.targetName),
  toQuery: ({ targets }) => ({ targetNames: targets }),
});

/** Allow plans by namespace. */
export const hasPlanNamespace = createPermissionRule({
  name: 'HAS_PLAN_NAMESPACE',
  description: 'Allow plans that deploy into one of the given namespaces',
  resourceRef: planResourceRef,
  paramsSchema: z.object({
    namespaces: z.array(z.string()).describe('Kubernetes namespaces'),
  }),
  apply: (plan, { namespaces }) => namespaces.includes(plan.namespace),
  toQuery: ({ namespaces }) => ({ namespaces }),
});

/** Allow plans of given catalog entities. */
export const hasPlanEntity = createPermissionRule({
  name: 'HAS_PLAN_ENTITY',
  description: 'Allow plans that deploy one of the given catalog entities',
  resourceRef: planResourceRef,
  paramsSchema: z.object({
    entityRefs: z
      .array(z.string())
      .describe('Entity refs, e.g. component:default/x'),
  }),
  apply: (plan, { entityRefs }) => entityRefs.includes(plan.entityRef),
  toQuery: ({ entityRefs }) => ({ entityRefs }),
});

export const planPermissionRules = {
  isPlanEntityOwner,
  hasPlanTarget,
  hasPlanNamespace,
  hasPlanEntity,
};

/**
 * Condition factories for permission policies, e.g.
 * `planConditions.isPlanEntityOwner({ claims: user.info.ownershipEntityRefs })`.
 */
export const {
  conditions: planConditions,
  createConditionalDecision: createPlanConditionalDecision,
} = createConditionExports({
  resourceRef: planResourceRef,
  rules: planPermissionRules,
});
