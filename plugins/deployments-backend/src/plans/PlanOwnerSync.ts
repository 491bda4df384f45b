import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { DatabasePlanStore } from './DatabasePlanStore';
import { ownerOf } from './ownerOf';

/** What one pass changed. */
export interface PlanOwnerSyncResult {
  entitiesChecked: number;
  plansChanged: number;
  /** Entities no longer in the catalog; their plans have no owner. */
  entitiesGone: number;
}

const PAGE_SIZE = 200;

/**
 * Keeps the owner recorded on each plan equal to its entity's owner in the
 * catalog. The ownership permission rule reads the recorded owner, so a
 * component handed to another team must stop being deployable by the old
 * one without anyone editing its plans. An entity that left the catalog
 * leaves its plans ownerless: no team's ownership rule matches them, while
 * rules by target or namespace, and the platform group, still do.
 */
export class PlanOwnerSync {
  static create(options: {
    store: DatabasePlanStore;
    catalog: CatalogService;
    auth: AuthService;
    logger: LoggerService;
  }): PlanOwnerSync {
    return new PlanOwnerSync(
      options.store,
      options.catalog,
      options.auth,
      options.logger,
    );
  }

  private constructor(
    private readonly store: DatabasePlanStore,
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private readonly logger: LoggerService,
  ) {}

  async syncOwners(): Promise<PlanOwnerSyncResult> {
    const result: PlanOwnerSyncResult = {
      entitiesChecked: 0,
      plansChanged: 0,
      entitiesGone: 0,
    };
    const credentials = await this.auth.getOwnServiceCredentials();
    let after: string | undefined;
    for (;;) {
      const page = await this.store.listEntityOwners({
        after,
        limit: PAGE_SIZE,
      });
      if (page.length === 0) {
        break;
      }
      const { items } = await this.catalog.getEntitiesByRefs(
        {
          entityRefs: page.map(entry => entry.entityRef),
          fields: ['kind', 'metadata.namespace', 'spec.owner', 'relations'],
        },
        { credentials },
      );
      for (const [index, recorded] of page.entries()) {
        const entity = items[index];
        const owner = entity ? ownerOf(entity) : undefined;
        result.entitiesChecked += 1;
        if (!entity) {
          result.entitiesGone += 1;
        }
        if (recorded.uniform && recorded.entityOwner === owner) {
          continue;
        }
        const changed = await this.store.setEntityOwner(
          recorded.entityRef,
          owner,
        );
        result.plansChanged += changed;
        this.logger.info(
          entity
            ? 'Plans of an entity now record its new owner'
            : 'An entity is no longer in the catalog; its plans have no owner now',
          { entityRef: recorded.entityRef, owner: owner ?? null, changed },
        );
      }
      after = page[page.length - 1].entityRef;
    }
    return result;
  }
}
