import { ConflictError } from '@backstage/errors';
import {
  ReleasePlanGate,
  ReleasePlanOptions,
  ReleasePlanStatus,
} from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';
import { QueryTree } from '../permissions/ResourceAuthorizer';

/** A plan row; target and chart are referenced by id. */
export interface StoredPlan {
  id: string;
  entityRef: string;
  entityOwner?: string;
  chartId: string;
  targetId: string;
  targetName: string;
  namespace: string;
  releaseName: string;
  profileId?: string;
  profileRevision?: number;
  options: ReleasePlanOptions;
  revision: number;
  status: ReleasePlanStatus;
  statusMessage?: string;
  statusChangedAt: string;
  statusChangedBy: string;
  lastDryRun?: ReleasePlanGate;
  lastPreflight?: ReleasePlanGate;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** The parts of a plan revision's snapshot that say what it deploys. */
export interface PlanRevisionSnapshot {
  chartId: string;
  profileId?: string;
  /** Unset when the revision followed the profile's newest revision. */
  profileRevision?: number;
}

/** Where a page of plans ends, in list order. */
export interface PlanListKey {
  entityRef: string;
  releaseName: string;
  id: string;
}

/** What the plan permission rules translate to in a query. */
export interface PlanFilter {
  owners?: string[];
  targetNames?: string[];
  namespaces?: string[];
  entityRefs?: string[];
}

/** A permission filter tree over plan filters (allOf / anyOf / not). */
export type PlanFilterTree = QueryTree<PlanFilter>;

/** Matches no plan: what an untranslatable condition becomes. */
export const NO_PLANS: PlanFilter = { entityRefs: [] };

const PLANS = 'deployments_plans';
const REVISIONS = 'deployments_plan_revisions';

function fromRow(row: Record<string, any>): StoredPlan {
  return {
    id: row.id,
    entityRef: row.entity_ref,
    entityOwner: row.entity_owner ?? undefined,
    chartId: row.chart_id,
    targetId: row.target_id,
    targetName: row.target_name,
    namespace: row.namespace,
    releaseName: row.release_name,
    profileId: row.profile_id ?? undefined,
    profileRevision:
      row.profile_revision === null || row.profile_revision === undefined
        ? undefined
        : Number(row.profile_revision),
    options: JSON.parse(row.options),
    revision: Number(row.revision),
    status: row.status,
    statusMessage: row.status_message ?? undefined,
    statusChangedAt: row.status_changed_at,
    statusChangedBy: row.status_changed_by,
    lastDryRun: row.last_dry_run ? JSON.parse(row.last_dry_run) : undefined,
    lastPreflight: row.last_preflight
      ? JSON.parse(row.last_preflight)
      : undefined,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function toRow(plan: StoredPlan) {
  return {
    id: plan.id,
    entity_ref: plan.entityRef,
    entity_owner: plan.entityOwner ?? null,
    chart_id: plan.chartId,
    target_id: plan.targetId,
    target_name: plan.targetName,
    namespace: plan.namespace,
    release_name: plan.releaseName,
    profile_id: plan.profileId ?? null,
    profile_revision: plan.profileRevision ?? null,
    options: JSON.stringify(plan.options),
    revision: plan.revision,
    status: plan.status,
    status_message: plan.statusMessage ?? null,
    status_changed_at: plan.statusChangedAt,
    status_changed_by: plan.statusChangedBy,
    last_dry_run: plan.lastDryRun ? JSON.stringify(plan.lastDryRun) : null,
    last_preflight: plan.lastPreflight
      ? JSON.stringify(plan.lastPreflight)
      : null,
    created_at: plan.createdAt,
    created_by: plan.createdBy,
    updated_at: plan.updatedAt,
    updated_by: plan.updatedBy,
  };
}

/** The inputs of a revision, kept so an operation's plan revision stays explainable. */
function snapshotOf(plan: StoredPlan) {
  return JSON.stringify({
    entityRef: plan.entityRef,
    chartId: plan.chartId,
    targetId: plan.targetId,
    namespace: plan.namespace,
    releaseName: plan.releaseName,
    profileId: plan.profileId,
    profileRevision: plan.profileRevision,
    options: plan.options,
  });
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '23505' || /UNIQUE constraint failed/.test(e.message ?? '');
}

function uniqueConflict(plan: StoredPlan) {
  return new ConflictError(
    `A release plan for release "${plan.releaseName}" in namespace "${plan.namespace}" of this target already exists`,
  );
}

/**
 * Narrows a query to the plans a permission filter tree allows. `table` names
 * the plans table (or its alias) when the query joins it.
 */
export function applyPlanFilter(
  query: Knex.QueryBuilder,
  tree: PlanFilterTree,
  table?: string,
): void {
  const column = (name: string) => (table ? `${table}.${name}` : name);
  if ('allOf' in tree) {
    for (const child of tree.allOf)
      query.andWhere(q => applyPlanFilter(q, child, table));
  } else if ('anyOf' in tree) {
    query.andWhere(q => {
      for (const child of tree.anyOf)
        q.orWhere(inner => applyPlanFilter(inner, child, table));
    });
  } else if ('not' in tree) {
    query.whereNot(q => applyPlanFilter(q, tree.not, table));
  } else {
    if (tree.owners) query.whereIn(column('entity_owner'), tree.owners);
    if (tree.targetNames)
      query.whereIn(column('target_name'), tree.targetNames);
    if (tree.namespaces) query.whereIn(column('namespace'), tree.namespaces);
    if (tree.entityRefs) query.whereIn(column('entity_ref'), tree.entityRefs);
  }
}

/** Release plans and their revision snapshots in the plugin's database. */
export class DatabasePlanStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabasePlanStore {
    return new DatabasePlanStore(db);
  }

  /**
   * A page of plans, filtered in SQL by the caller's permission conditions.
   * `after` (the last row of the previous page) pages by key, which stays
   * as fast deep in the table as on its first page; `offset` is kept for
   * small tables and jumping to a page.
   */
  async list(options: {
    limit: number;
    offset: number;
    after?: PlanListKey;
    entityRef?: string;
    targetId?: string;
    filter?: PlanFilterTree;
  }): Promise<{ items: StoredPlan[]; totalCount: number }> {
    const query = this.db(PLANS);
    if (options.entityRef) query.where({ entity_ref: options.entityRef });
    if (options.targetId) query.where({ target_id: options.targetId });
    if (options.filter) {
      const filter = options.filter;
      query.andWhere(q => applyPlanFilter(q, filter));
    }
    const [{ count }] = await query.clone().count({ count: '*' });
    if (options.after) {
      const { entityRef, releaseName, id } = options.after;
      // Row values compare in order; PostgreSQL and SQLite both support them.
      query.whereRaw('(entity_ref, release_name, id) > (?, ?, ?)', [
        entityRef,
        releaseName,
        id,
      ]);
    } else {
      query.offset(options.offset);
    }
    const rows = await query
      .select()
      .orderBy([
        { column: 'entity_ref' },
        { column: 'release_name' },
        { column: 'id' },
      ])
      .limit(options.limit);
    return { items: rows.map(fromRow), totalCount: Number(count) };
  }

  async get(id: string): Promise<StoredPlan | undefined> {
    const row = await this.db(PLANS).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  /** What a plan revision bound: chart, profile and its revision (as saved). */
  async getRevisionSnapshot(
    id: string,
    revision: number,
  ): Promise<PlanRevisionSnapshot | undefined> {
    const row = await this.db(REVISIONS)
      .where({ plan_id: id, revision })
      .first();
    if (!row) return undefined;
    const snapshot =
      typeof row.snapshot === 'string'
        ? JSON.parse(row.snapshot)
        : row.snapshot;
    return {
      chartId: snapshot.chartId,
      profileId: snapshot.profileId ?? undefined,
      profileRevision: snapshot.profileRevision ?? undefined,
    };
  }

  async getMany(ids: string[]): Promise<StoredPlan[]> {
    if (ids.length === 0) return [];
    return (await this.db(PLANS).whereIn('id', ids)).map(fromRow);
  }

  /**
   * Plans in a status, for the health summary; with a permission filter only
   * the plans it allows (filtered in SQL, before the limit).
   */
  async listByStatus(
    statuses: ReleasePlanStatus[],
    filter?: PlanFilterTree,
  ): Promise<StoredPlan[]> {
    const query = this.db(PLANS).whereIn('status', statuses);
    if (filter) query.andWhere(q => applyPlanFilter(q, filter));
    return (await query.limit(200)).map(fromRow);
  }

  async idsUsing(column: 'target_id' | 'chart_id' | 'profile_id', id: string) {
    const rows = await this.db(PLANS)
      .where(column, id)
      .select('id', 'entity_ref', 'release_name')
      .limit(20);
    return rows.map(r => `${r.release_name} (${r.entity_ref})`);
  }

  async insert(plan: StoredPlan): Promise<void> {
    try {
      await this.db.transaction(async tx => {
        await tx(PLANS).insert(toRow(plan));
        await tx(REVISIONS).insert({
          plan_id: plan.id,
          revision: plan.revision,
          snapshot: snapshotOf(plan),
          created_at: plan.updatedAt,
          created_by: plan.updatedBy,
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw uniqueConflict(plan);
      throw error;
    }
  }

  /** A new revision of the inputs, if nobody else wrote one first. */
  async replace(plan: StoredPlan, expectedRevision: number): Promise<void> {
    try {
      await this.db.transaction(async tx => {
        const updated = await tx(PLANS)
          .where({ id: plan.id, revision: expectedRevision })
          .update(toRow(plan));
        if (updated !== 1) {
          throw new ConflictError(
            `Release plan ${plan.id} changed while you edited it; reload and try again`,
          );
        }
        await tx(REVISIONS).insert({
          plan_id: plan.id,
          revision: plan.revision,
          snapshot: snapshotOf(plan),
          created_at: plan.updatedAt,
          created_by: plan.updatedBy,
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw uniqueConflict(plan);
      throw error;
    }
  }

  /** Status and gates change without a new revision: they are outcomes, not inputs. */
  async updateState(
    id: string,
    state: Partial<
      Pick<
        StoredPlan,
        | 'status'
        | 'statusMessage'
        | 'statusChangedAt'
        | 'statusChangedBy'
        | 'lastDryRun'
        | 'lastPreflight'
      >
    >,
  ): Promise<void> {
    const patch: Record<string, unknown> = {};
    if (state.status !== undefined) patch.status = state.status;
    if ('statusMessage' in state)
      patch.status_message = state.statusMessage ?? null;
    if (state.statusChangedAt !== undefined)
      patch.status_changed_at = state.statusChangedAt;
    if (state.statusChangedBy !== undefined)
      patch.status_changed_by = state.statusChangedBy;
    if ('lastDryRun' in state)
      patch.last_dry_run = state.lastDryRun
        ? JSON.stringify(state.lastDryRun)
        : null;
    if ('lastPreflight' in state)
      patch.last_preflight = state.lastPreflight
        ? JSON.stringify(state.lastPreflight)
        : null;
    await this.db(PLANS).where({ id }).update(patch);
  }

  /**
   * The entities plans deploy, in pages ordered by entity ref (`after` the
   * last ref of the previous page), each with the owner its plans record:
   * `uniform` is false when its plans disagree.
   */
  async listEntityOwners(options: {
    after?: string;
    limit: number;
  }): Promise<
    Array<{ entityRef: string; entityOwner?: string; uniform: boolean }>
  > {
    const query = this.db(PLANS)
      .select('entity_ref')
      .min({ min_owner: 'entity_owner' })
      .max({ max_owner: 'entity_owner' })
      .count({ plans: '*' })
      .count({ owned: 'entity_owner' })
      .groupBy('entity_ref')
      .orderBy('entity_ref')
      .limit(options.limit);
    if (options.after !== undefined) {
      query.where('entity_ref', '>', options.after);
    }
    const rows: Array<Record<string, any>> = await query;
    return rows.map(row => {
      const owned = Number(row.owned);
      return {
        entityRef: row.entity_ref as string,
        entityOwner: (row.min_owner as string | null) ?? undefined,
        uniform:
          owned === 0 ||
          (owned === Number(row.plans) && row.min_owner === row.max_owner),
      };
    });
  }

  /**
   * Records an entity's current owner on all its plans. The owner is what
   * the ownership permission rule reads, not a plan input, so no revision is
   * made. Returns how many plans changed.
   */
  async setEntityOwner(
    entityRef: string,
    entityOwner: string | undefined,
  ): Promise<number> {
    const query = this.db(PLANS).where('entity_ref', entityRef);
    if (entityOwner === undefined) {
      query.whereNotNull('entity_owner');
    } else {
      query.where(q =>
        q.whereNull('entity_owner').orWhereNot('entity_owner', entityOwner),
      );
    }
    return query.update({ entity_owner: entityOwner ?? null });
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async tx => {
      await tx(REVISIONS).where({ plan_id: id }).delete();
      return (await tx(PLANS).where({ id }).delete()) > 0;
    });
  }
}
