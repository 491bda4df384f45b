import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE } from '@kubedeploy/plugin-deployments-common';
import { z } from 'zod';
import { StoredTarget } from '../targets/DatabaseTargetStore';
import { matchesNamespacePattern } from '../targets/namespaceBoundary';

/**
 * Where a release goes: a target, a namespace in it and the catalog entity
 * deployed there (with its owner as the catalog records it).
 */
export interface Placement {
  target: StoredTarget;
  namespace: string;
  entityRef: string;
  entityOwner?: string;
}

/** Placements are never listed, so their rules have no query form. */
export type PlacementFilter = { never: true };

/** The resource ref of a placement: `<target>/<namespace>/<entityRef>`. */
export function placementRef(placement: Placement): string {
  return `${placement.target.name}/${placement.namespace}/${placement.entityRef}`;
}

/** Parses a placement ref; undefined when it is not one. */
export function parsePlacementRef(
  ref: string,
): { targetName: string; namespace: string; entityRef: string } | undefined {
  const [targetName, namespace, ...rest] = ref.split('/');
  const entityRef = rest.join('/');
  return targetName && namespace && entityRef
    ? { targetName, namespace, entityRef }
    : undefined;
}

/** The owners of a namespace on a target: the first matching entry decides. */
export function namespaceOwnersOf(
  target: StoredTarget,
  namespace: string,
): string[] {
  return (
    target.namespaceOwners.find(entry =>
      matchesNamespacePattern(entry.namespace, namespace),
    )?.owners ?? []
  );
}

export const placementResourceRef = createPermissionResourceRef<
  Placement,
  PlacementFilter
>().with({
  pluginId: 'deployments',
  resourceType: DEPLOYMENTS_PLACEMENT_RESOURCE_TYPE,
});

const NOTHING: PlacementFilter = { never: true };

const claims = z
  .array(z.string())
  .describe(
    'Entity refs, usually the user and their groups (the ownership claims)',
  );

/** The target's owner is one of the claims. */
export const isPlacementTargetOwner = createPermissionRule({
  name: 'IS_TARGET_OWNER',
  description: 'Allow placements on targets owned by one of the given refs',
  resourceRef: placementResourceRef,
  paramsSchema: z.object({ claims }),
  apply: (placement, params) =>
    Boolean(
      placement.target.owner && params.claims.includes(placement.target.owner),
    ),
  toQuery: () => NOTHING,
});

/** The target is one of the named ones. */
export const hasPlacementTargetName = createPermissionRule({
  name: 'HAS_TARGET_NAME',
  description: 'Allow placements on one of the given targets',
  resourceRef: placementResourceRef,
  paramsSchema: z.object({
    names: z.array(z.string()).describe('Target names'),
  }),
  apply: (placement, { names }) => names.includes(placement.target.name),
  toQuery: () => NOTHING,
});

/** The target is marked production. */
export const isProductionTarget = createPermissionRule({
  name: 'IS_PRODUCTION_TARGET',
  description: 'Allow placements on targets marked production',
  resourceRef: placementResourceRef,
  paramsSchema: z.object({}),
  apply: placement => placement.target.production,
  toQuery: () => NOTHING,
});

/** The namespace matches one of the names or globs. */
export const hasPlacementNamespace = createPermissionRule({
  name: 'HAS_NAMESPACE',
  description:
    'Allow placements into namespaces matching one of the given names or globs (team-a-*)',
  resourceRef: placementResourceRef,
  paramsSchema: z.object({
    namespaces: z.array(z.string()).describe('Namespace names or globs'),
  }),
  apply: (placement, { namespaces }) =>
    namespaces.some(pattern =>
      matchesNamespacePattern(pattern, placement.namespace),
    ),
  toQuery: () => NOTHING,
});

/** The target maps the namespace to one of the claims (e.g. the user's groups). */
export const isNamespaceOwner = createPermissionRule({
  name: 'IS_NAMESPACE_OWNER',
  description:
    "Allow placements into namespaces the target's namespace owners give to one of the given refs",
  resourceRef: placementResourceRef,
  paramsSchema: z.object({ claims }),
  apply: (placement, params) =>
    namespaceOwnersOf(placement.target, placement.namespace).some(owner =>
      params.claims.includes(owner),
    ),
  toQuery: () => NOTHING,
});

/** The deployed entity's owner owns the namespace: components go into their team's namespaces. */
export const isNamespaceOwnedByEntityOwner = createPermissionRule({
  name: 'IS_NAMESPACE_OWNED_BY_ENTITY_OWNER',
  description:
    "Allow placements where the entity's owner is an owner of the namespace on that target",
  resourceRef: placementResourceRef,
  paramsSchema: z.object({}),
  apply: placement =>
    Boolean(
      placement.entityOwner &&
        namespaceOwnersOf(placement.target, placement.namespace).includes(
          placement.entityOwner,
        ),
    ),
  toQuery: () => NOTHING,
});

/** The deployed entity is owned by one of the claims. */
export const isPlacementEntityOwner = createPermissionRule({
  name: 'IS_ENTITY_OWNER',
  description:
    'Allow placements of entities owned by one of the given refs (usually the user and their groups)',
  resourceRef: placementResourceRef,
  paramsSchema: z.object({ claims }),
  apply: (placement, params) =>
    Boolean(
      placement.entityOwner && params.claims.includes(placement.entityOwner),
    ),
  toQuery: () => NOTHING,
});

export const placementPermissionRules = {
  isTargetOwner: isPlacementTargetOwner,
  hasTargetName: hasPlacementTargetName,
  isProductionTarget,
  hasNamespace: hasPlacementNamespace,
  isNamespaceOwner,
  isNamespaceOwnedByEntityOwner,
  isEntityOwner: isPlacementEntityOwner,
};

/**
 * Condition factories for permission policies, e.g.
 * `placementConditions.isNamespaceOwnedByEntityOwner({})`.
 */
export const {
  conditions: placementConditions,
  createConditionalDecision: createPlacementConditionalDecision,
} = createConditionExports({
  resourceRef: placementResourceRef,
  rules: placementPermissionRules,
});
