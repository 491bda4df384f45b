import {
  Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';

/**
 * The owner of a catalog entity as a full entity ref: the `ownedBy` relation
 * the catalog computed, or `spec.owner` resolved the way the catalog resolves
 * it (kind group, the entity's namespace).
 */
export function ownerOf(entity: Entity): string | undefined {
  const ownedBy = entity.relations?.find(r => r.type === 'ownedBy');
  if (ownedBy) {
    return ownedBy.targetRef;
  }
  const specOwner = (entity.spec as { owner?: unknown } | undefined)?.owner;
  if (typeof specOwner !== 'string' || !specOwner) {
    return undefined;
  }
  try {
    return stringifyEntityRef(
      parseEntityRef(specOwner, {
        defaultKind: 'group',
        defaultNamespace: entity.metadata.namespace ?? 'default',
      }),
    );
  } catch {
    return undefined;
  }
}
