import { InputError, NotFoundError } from '@backstage/errors';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import { SecretsService } from '../secrets/SecretsService';
import { RegistryCredentials } from './oci/OciRegistryClient';

/** A registry's credentials as the API shows them: never the secret. */
export interface RegistryCredentialSummary {
  host: string;
  authKind: 'basic';
  fingerprint: string;
  updatedAt: string;
  updatedBy: string;
}

const TABLE = 'deployments_registries';
const HOST =
  /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/;

/**
 * Registry credentials, sealed under the keyring and bound to their row and
 * version. Basic credentials also serve registries that hand out bearer
 * tokens: the client presents them to the token endpoint.
 */
export class RegistryCredentialService {
  private constructor(
    private readonly db: Knex,
    private readonly secrets: SecretsService,
  ) {}

  static create(options: {
    db: Knex;
    secrets: SecretsService;
  }): RegistryCredentialService {
    return new RegistryCredentialService(options.db, options.secrets);
  }

  async list(): Promise<RegistryCredentialSummary[]> {
    const rows = await this.db(TABLE).select().orderBy('host');
    return rows.map(row => ({
      host: row.host,
      authKind: row.auth_kind,
      fingerprint: row.credentials_fingerprint,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    }));
  }

  /** Stores or replaces the credentials of one registry host. */
  async put(
    host: string,
    input: { username: string; password: string },
    actor: string,
  ): Promise<RegistryCredentialSummary> {
    const normalized = host.toLowerCase();
    if (!HOST.test(normalized)) {
      throw new InputError(`"${host}" is not a registry host[:port]`);
    }
    if (!input.username || input.username.includes(':') || !input.password) {
      throw new InputError(
        'A username without ":" and a non-empty password are required',
      );
    }
    const now = new Date().toISOString();
    const existing = await this.db(TABLE).where({ host: normalized }).first();
    const id: string = existing?.id ?? randomUUID();
    const version = Number(existing?.credentials_version ?? 0) + 1;
    const { sealed, fingerprint } = await this.secrets.seal(
      { type: 'registry-credentials', id, version },
      JSON.stringify({ username: input.username, password: input.password }),
    );
    const row = {
      auth_kind: 'basic',
      credentials_sealed: sealed,
      credentials_version: version,
      credentials_fingerprint: fingerprint,
      updated_at: now,
      updated_by: actor,
    };
    if (existing) {
      await this.db(TABLE)
        .where({ id, credentials_version: existing.credentials_version })
        .update(row);
    } else {
      await this.db(TABLE).insert({
        id,
        host: normalized,
        created_at: now,
        created_by: actor,
        ...row,
      });
    }
    return {
      host: normalized,
      authKind: 'basic',
      fingerprint,
      updatedAt: now,
      updatedBy: actor,
    };
  }

  async delete(host: string): Promise<void> {
    const deleted = await this.db(TABLE)
      .where({ host: host.toLowerCase() })
      .delete();
    if (!deleted) {
      throw new NotFoundError(`No credentials are stored for registry ${host}`);
    }
  }

  /** Decrypted credentials for one use, or anonymous when none are stored. */
  async credentialsFor(host: string): Promise<RegistryCredentials> {
    const row = await this.db(TABLE)
      .where({ host: host.toLowerCase() })
      .first();
    if (!row) {
      return { kind: 'anonymous' };
    }
    const opened = await this.secrets.open(
      {
        type: 'registry-credentials',
        id: row.id,
        version: Number(row.credentials_version),
      },
      row.credentials_sealed,
    );
    const { username, password } = JSON.parse(opened.toString('utf8'));
    opened.fill(0);
    return { kind: 'basic', username, password };
  }
}
