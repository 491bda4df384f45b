import { ConflictError } from '@backstage/errors';
import { Knex } from 'knex';
import { QueryTree } from '../permissions/ResourceAuthorizer';

/** The head of a values profile: what changes from revision to revision. */
export interface StoredProfile {
  id: string;
  chartId: string;
  /** The chart's name (from its Chart.yaml), for the chart permission rule. */
  chartName: string;
  name: string;
  description?: string;
  /** Entity ref of the owning group or user, for the ownership rule. */
  owner?: string;
  revision: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** What the profile permission rules translate to for a query. */
export interface ProfileFilter {
  owners?: string[];
  chartNames?: string[];
}

/** A permission filter tree over profile filters (allOf / anyOf / not). */
export type ProfileFilterTree = QueryTree<ProfileFilter>;

/** Matches no profile: what an untranslatable condition becomes. */
export const NO_PROFILES: ProfileFilter = { owners: [] };

/** One immutable revision; secrets stay sealed here. */
export interface StoredProfileRevision {
  profileId: string;
  revision: number;
  chartId: string;
  values: Record<string, unknown>;
  secretPaths: string[];
  secretsSealed?: string;
  valuesHash: string;
  createdAt: string;
  createdBy: string;
}

const PROFILES = 'deployments_profiles';
const REVISIONS = 'deployments_profile_revisions';
const CHARTS = 'deployments_charts';

/** Narrows a query of profiles to those a permission filter tree allows. */
function applyProfileFilter(
  query: Knex.QueryBuilder,
  tree: ProfileFilterTree,
): void {
  if ('allOf' in tree) {
    for (const child of tree.allOf)
      query.andWhere(q => applyProfileFilter(q, child));
  } else if ('anyOf' in tree) {
    query.andWhere(q => {
      for (const child of tree.anyOf)
        q.orWhere(inner => applyProfileFilter(inner, child));
    });
  } else if ('not' in tree) {
    query.whereNot(q => applyProfileFilter(q, tree.not));
  } else {
    if (tree.owners) query.whereIn(`${PROFILES}.owner`, tree.owners);
    if (tree.chartNames) query.whereIn(`${CHARTS}.name`, tree.chartNames);
  }
}

function profileFromRow(row: Record<string, any>): StoredProfile {
  return {
    id: row.id,
    chartId: row.chart_id,
    chartName: row.chart_name,
    name: row.name,
    description: row.description ?? undefined,
    owner: row.owner ?? undefined,
    revision: Number(row.revision),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function revisionFromRow(row: Record<string, any>): StoredProfileRevision {
  return {
    profileId: row.profile_id,
    revision: Number(row.revision),
    chartId: row.chart_id,
    values: JSON.parse(row.values),
    secretPaths: JSON.parse(row.secret_paths),
    secretsSealed: row.secrets_sealed ?? undefined,
    valuesHash: row.values_hash,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function revisionToRow(revision: StoredProfileRevision) {
  return {
    profile_id: revision.profileId,
    revision: revision.revision,
    chart_id: revision.chartId,
    values: JSON.stringify(revision.values),
    secret_paths: JSON.stringify(revision.secretPaths),
    secrets_sealed: revision.secretsSealed ?? null,
    values_hash: revision.valuesHash,
    created_at: revision.createdAt,
    created_by: revision.createdBy,
  };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === '23505' || /UNIQUE constraint failed/.test(e.message ?? '');
}

/** Values profiles and their revisions in the plugin's database. */
export class DatabaseProfileStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseProfileStore {
    return new DatabaseProfileStore(db);
  }

  /** A page of profiles, filtered in SQL by the caller's permission conditions. */
  async list(options: {
    limit: number;
    offset: number;
    chartId?: string;
    filter?: ProfileFilterTree;
  }): Promise<{ items: StoredProfile[]; totalCount: number }> {
    const query = this.withChart();
    if (options.chartId) query.where(`${PROFILES}.chart_id`, options.chartId);
    if (options.filter) {
      const filter = options.filter;
      query.andWhere(q => applyProfileFilter(q, filter));
    }
    const [{ count }] = await query.clone().count({ count: '*' });
    const rows = await query
      .select(`${PROFILES}.*`, `${CHARTS}.name as chart_name`)
      .orderBy([{ column: `${PROFILES}.name` }, { column: `${PROFILES}.id` }])
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(profileFromRow), totalCount: Number(count) };
  }

  async get(id: string): Promise<StoredProfile | undefined> {
    const [found] = await this.getByIds([id]);
    return found;
  }

  /** Profiles by id, in the order asked; undefined where none exists. */
  async getByIds(ids: string[]): Promise<Array<StoredProfile | undefined>> {
    const rows: Record<string, any>[] =
      ids.length === 0
        ? []
        : await this.withChart()
            .whereIn(`${PROFILES}.id`, ids)
            .select(`${PROFILES}.*`, `${CHARTS}.name as chart_name`);
    const byId = new Map<string, StoredProfile>(
      rows.map(row => [row.id, profileFromRow(row)]),
    );
    return ids.map(id => byId.get(id));
  }

  async getRevision(
    profileId: string,
    revision: number,
  ): Promise<StoredProfileRevision | undefined> {
    const row = await this.db(REVISIONS)
      .where({ profile_id: profileId, revision })
      .first();
    return row ? revisionFromRow(row) : undefined;
  }

  async listRevisions(profileId: string): Promise<StoredProfileRevision[]> {
    const rows = await this.db(REVISIONS)
      .where({ profile_id: profileId })
      .orderBy('revision', 'desc');
    return rows.map(revisionFromRow);
  }

  private withChart(): Knex.QueryBuilder {
    return this.db(PROFILES).join(
      CHARTS,
      `${CHARTS}.id`,
      `${PROFILES}.chart_id`,
    );
  }

  /** Whether any profile was written for a chart (a chart in use cannot be deleted). */
  async countForChart(chartId: string): Promise<number> {
    const [{ count }] = await this.db(PROFILES)
      .where({ chart_id: chartId })
      .count({ count: '*' });
    return Number(count);
  }

  /** The profile and its first revision, together or not at all. */
  async insert(
    profile: StoredProfile,
    revision: StoredProfileRevision,
  ): Promise<void> {
    try {
      await this.db.transaction(async tx => {
        await tx(PROFILES).insert({
          id: profile.id,
          chart_id: profile.chartId,
          name: profile.name,
          description: profile.description ?? null,
          owner: profile.owner ?? null,
          revision: profile.revision,
          created_at: profile.createdAt,
          created_by: profile.createdBy,
          updated_at: profile.updatedAt,
          updated_by: profile.updatedBy,
        });
        await tx(REVISIONS).insert(revisionToRow(revision));
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          `A values profile named "${profile.name}" already exists for this chart`,
        );
      }
      throw error;
    }
  }

  /**
   * Moves the head to a new revision if nobody else did first; the revision
   * row and the head change in one transaction.
   */
  async addRevision(
    profile: StoredProfile,
    revision: StoredProfileRevision,
    expectedRevision: number,
  ): Promise<void> {
    try {
      await this.db.transaction(async tx => {
        const updated = await tx(PROFILES)
          .where({ id: profile.id, revision: expectedRevision })
          .update({
            // Another version of the same chart after an upgrade.
            chart_id: profile.chartId,
            name: profile.name,
            description: profile.description ?? null,
            owner: profile.owner ?? null,
            revision: profile.revision,
            updated_at: profile.updatedAt,
            updated_by: profile.updatedBy,
          });
        if (updated !== 1) {
          throw new ConflictError(
            `Values profile "${profile.name}" changed while you edited it; reload and try again`,
          );
        }
        await tx(REVISIONS).insert(revisionToRow(revision));
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          `Values profile "${profile.name}" changed while you edited it, or the name is taken; reload and try again`,
        );
      }
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async tx => {
      await tx(REVISIONS).where({ profile_id: id }).delete();
      return (await tx(PROFILES).where({ id }).delete()) > 0;
    });
  }
}
