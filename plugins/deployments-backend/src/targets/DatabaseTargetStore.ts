import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  ChangeWindowSettings,
  NamespaceOwnership,
  TargetAuthKind,
} from '@kubedeploy/plugin-deployments-common';
import { Knex } from 'knex';

/** A target row as the service sees it; credentials stay sealed here. */
export interface StoredTarget {
  id: string;
  name: string;
  displayName: string;
  description?: string;
  owner?: string;
  apiServerUrl: string;
  caData?: string;
  authKind: TargetAuthKind;
  credentialsSealed?: string;
  credentialsVersion: number;
  credentialsFingerprint?: string;
  credentialsUpdatedAt?: string;
  allowedNamespaces: string[];
  allowedClusterScopedKinds: string[];
  /** Namespaced objects may live in any allowed namespace, not only the release's. */
  allowObjectsInOtherAllowedNamespaces: boolean;
  impersonateUser?: string;
  impersonateGroups?: string[];
  allowInsecureTls: boolean;
  production: boolean;
  namespaceOwners: NamespaceOwnership[];
  requireApproval: boolean;
  changeWindows?: ChangeWindowSettings;
  revision: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** What the target permission rules translate to for a query. */
export interface TargetFilter {
  names?: string[];
  owners?: string[];
}

const TABLE = 'deployments_targets';

type TargetRow = {
  id: string;
  name: string;
  display_name: string;
  description: string | null;
  owner: string | null;
  api_server_url: string;
  ca_data: string | null;
  auth_kind: TargetAuthKind;
  credentials_sealed: string | null;
  credentials_version: number;
  credentials_fingerprint: string | null;
  credentials_updated_at: string | null;
  allowed_namespaces: string;
  allowed_cluster_kinds: string;
  allow_objects_in_other_allowed_namespaces: boolean | number;
  impersonate_user: string | null;
  impersonate_groups: string | null;
  allow_insecure_tls: boolean | number;
  production: boolean | number;
  namespace_owners: string;
  require_approval: boolean | number;
  change_windows: string | null;
  revision: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
};

function fromRow(row: TargetRow): StoredTarget {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    description: row.description ?? undefined,
    owner: row.owner ?? undefined,
    apiServerUrl: row.api_server_url,
    caData: row.ca_data ?? undefined,
    authKind: row.auth_kind,
    credentialsSealed: row.credentials_sealed ?? undefined,
    credentialsVersion: Number(row.credentials_version),
    credentialsFingerprint: row.credentials_fingerprint ?? undefined,
    credentialsUpdatedAt: row.credentials_updated_at ?? undefined,
    allowedNamespaces: JSON.parse(row.allowed_namespaces),
    allowedClusterScopedKinds: JSON.parse(row.allowed_cluster_kinds),
    // SQLite returns booleans as 0/1.
    allowObjectsInOtherAllowedNamespaces: Boolean(
      row.allow_objects_in_other_allowed_namespaces,
    ),
    impersonateUser: row.impersonate_user ?? undefined,
    impersonateGroups: row.impersonate_groups
      ? JSON.parse(row.impersonate_groups)
      : undefined,
    // SQLite returns booleans as 0/1.
    allowInsecureTls: Boolean(row.allow_insecure_tls),
    production: Boolean(row.production),
    namespaceOwners: JSON.parse(row.namespace_owners),
    requireApproval: Boolean(row.require_approval),
    changeWindows: row.change_windows
      ? JSON.parse(row.change_windows)
      : undefined,
    revision: Number(row.revision),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function toRow(target: StoredTarget): TargetRow {
  return {
    id: target.id,
    name: target.name,
    display_name: target.displayName,
    description: target.description ?? null,
    owner: target.owner ?? null,
    api_server_url: target.apiServerUrl,
    ca_data: target.caData ?? null,
    auth_kind: target.authKind,
    credentials_sealed: target.credentialsSealed ?? null,
    credentials_version: target.credentialsVersion,
    credentials_fingerprint: target.credentialsFingerprint ?? null,
    credentials_updated_at: target.credentialsUpdatedAt ?? null,
    allowed_namespaces: JSON.stringify(target.allowedNamespaces),
    allowed_cluster_kinds: JSON.stringify(target.allowedClusterScopedKinds),
    allow_objects_in_other_allowed_namespaces:
      target.allowObjectsInOtherAllowedNamespaces,
    impersonate_user: target.impersonateUser ?? null,
    impersonate_groups: target.impersonateGroups
      ? JSON.stringify(target.impersonateGroups)
      : null,
    allow_insecure_tls: target.allowInsecureTls,
    production: target.production,
    namespace_owners: JSON.stringify(target.namespaceOwners),
    require_approval: target.requireApproval,
    change_windows: target.changeWindows
      ? JSON.stringify(target.changeWindows)
      : null,
    revision: target.revision,
    created_at: target.createdAt,
    created_by: target.createdBy,
    updated_at: target.updatedAt,
    updated_by: target.updatedBy,
  };
}

/** Targets in the plugin's database. */
export class DatabaseTargetStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseTargetStore {
    return new DatabaseTargetStore(db);
  }

  /** Every target by name; lists are filtered by permission rules in memory. */
  async listAll(): Promise<StoredTarget[]> {
    const rows = await this.db<TargetRow>(TABLE).select().orderBy('name');
    return rows.map(fromRow);
  }

  async getByName(name: string): Promise<StoredTarget | undefined> {
    const row = await this.db<TargetRow>(TABLE).where({ name }).first();
    return row ? fromRow(row) : undefined;
  }

  async getByNames(names: string[]): Promise<StoredTarget[]> {
    const rows = await this.db<TargetRow>(TABLE).whereIn('name', names);
    return rows.map(fromRow);
  }

  async insert(target: StoredTarget): Promise<void> {
    try {
      await this.db<TargetRow>(TABLE).insert(toRow(target));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          `A target named "${target.name}" already exists`,
        );
      }
      throw error;
    }
  }

  /**
   * Replaces a target if nobody changed it since `expectedRevision` was read,
   * so two admins editing at once cannot silently overwrite each other.
   */
  async replace(target: StoredTarget, expectedRevision: number): Promise<void> {
    const updated = await this.db<TargetRow>(TABLE)
      .where({ id: target.id, revision: expectedRevision })
      .update(toRow(target));
    if (updated === 0) {
      const exists = await this.db<TargetRow>(TABLE)
        .where({ id: target.id })
        .first();
      if (!exists) {
        throw new NotFoundError(`Target "${target.name}" not found`);
      }
      throw new ConflictError(
        `Target "${target.name}" was changed by someone else (revision ${exists.revision}); reload and try again`,
      );
    }
  }

  /**
   * Replaces only the sealed credential and its version, if the row still
   * holds the credential and revision `target` was read with; answers
   * whether it did. Settings, revision and fingerprint stay as they are.
   */
  async replaceSealedCredentials(
    target: Pick<StoredTarget, 'id' | 'revision' | 'credentialsSealed'>,
    next: Pick<StoredTarget, 'credentialsSealed' | 'credentialsVersion'>,
  ): Promise<boolean> {
    const updated = await this.db<TargetRow>(TABLE)
      .where({
        id: target.id,
        revision: target.revision,
        credentials_sealed: target.credentialsSealed ?? null,
      })
      .update({
        credentials_sealed: next.credentialsSealed ?? null,
        credentials_version: next.credentialsVersion,
      });
    return updated > 0;
  }

  async delete(name: string): Promise<boolean> {
    return (await this.db<TargetRow>(TABLE).where({ name }).delete()) > 0;
  }
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' || // PostgreSQL unique_violation
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}
