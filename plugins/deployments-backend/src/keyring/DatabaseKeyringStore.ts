import { ConflictError } from '@backstage/errors';
import { Knex } from 'knex';

/** A keyring keypair as stored: the private key is passphrase-encrypted. */
export interface StoredKeyringKey {
  fingerprint: string;
  state: 'active' | 'pending' | 'retired';
  armoredPublicKey: string;
  armoredPrivateKey: string;
  createdAt: string;
  createdBy: string;
}

/** A data key with its wraps, one per keyring key that can open it. */
export interface StoredDataKey {
  id: string;
  createdAt: string;
  wraps: Array<{ fingerprint: string; wrapped: string }>;
}

type KeyRow = {
  fingerprint: string;
  state: StoredKeyringKey['state'];
  armored_public_key: string;
  armored_private_key: string;
  created_at: string;
  created_by: string;
};

const KEYS = 'deployments_keyring_keys';
const DATA_KEYS = 'deployments_data_keys';
const WRAPS = 'deployments_data_key_wraps';

async function insertDataKeys(tx: Knex.Transaction, dataKeys: StoredDataKey[]) {
  for (const dataKey of dataKeys) {
    await tx(DATA_KEYS).insert({
      id: dataKey.id,
      created_at: dataKey.createdAt,
    });
    for (const wrap of dataKey.wraps) {
      await tx(WRAPS).insert({
        data_key_id: dataKey.id,
        key_fingerprint: wrap.fingerprint,
        wrapped: wrap.wrapped,
      });
    }
  }
}

function toKey(row: KeyRow): StoredKeyringKey {
  return {
    fingerprint: row.fingerprint,
    state: row.state,
    armoredPublicKey: row.armored_public_key,
    armoredPrivateKey: row.armored_private_key,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

/** Keyring keys, data keys and their wraps in the plugin's database. */
export class DatabaseKeyringStore {
  private constructor(private readonly db: Knex) {}

  static create(db: Knex): DatabaseKeyringStore {
    return new DatabaseKeyringStore(db);
  }

  async listKeys(): Promise<StoredKeyringKey[]> {
    const rows = await this.db<KeyRow>(KEYS).select().orderBy('created_at');
    return rows.map(toKey);
  }

  async listDataKeys(): Promise<StoredDataKey[]> {
    const keys = await this.db(DATA_KEYS).select().orderBy('created_at');
    const wraps = await this.db(WRAPS).select();
    return keys.map(k => ({
      id: k.id,
      createdAt: k.created_at,
      wraps: wraps
        .filter(w => w.data_key_id === k.id)
        .map(w => ({ fingerprint: w.key_fingerprint, wrapped: w.wrapped })),
    }));
  }

  async getWrap(
    dataKeyId: string,
    fingerprint: string,
  ): Promise<string | undefined> {
    const row = await this.db(WRAPS)
      .where({ data_key_id: dataKeyId, key_fingerprint: fingerprint })
      .first();
    return row?.wrapped;
  }

  async countDataKeys(): Promise<number> {
    const [{ count }] = await this.db(DATA_KEYS).count({ count: '*' });
    return Number(count);
  }

  /**
   * Stores a keyring — a first one from bootstrap, or several keys from a
   * backup — with its data keys, all or nothing. Refused when any keyring key
   * exists, so two racing bootstraps or restores cannot both win.
   */
  async createKeyring(
    keys: StoredKeyringKey[],
    dataKeys: StoredDataKey[],
  ): Promise<void> {
    await this.db.transaction(async tx => {
      const existing = await tx(KEYS).first('fingerprint');
      if (existing) {
        throw new ConflictError(
          'A keyring already exists; bootstrap and restore need an install without one',
        );
      }
      for (const key of keys) {
        await tx(KEYS).insert(this.keyRow(key));
      }
      await insertDataKeys(tx, dataKeys);
    });
  }

  async addDataKey(dataKey: StoredDataKey): Promise<void> {
    await this.db.transaction(tx => insertDataKeys(tx, [dataKey]));
  }

  /** Starts a rotation: the new key is stored as pending. */
  async addPendingKey(key: StoredKeyringKey): Promise<void> {
    await this.db.transaction(async tx => {
      const pending = await tx(KEYS).where({ state: 'pending' }).first();
      if (pending) {
        throw new ConflictError(
          `A rotation to ${pending.fingerprint} is already in progress; unlock to resume it`,
        );
      }
      await tx(KEYS).insert(this.keyRow({ ...key, state: 'pending' }));
    });
  }

  /** Idempotent: a resumed rotation may write the same wrap again. */
  async putWrap(
    dataKeyId: string,
    fingerprint: string,
    wrapped: string,
  ): Promise<void> {
    await this.db(WRAPS)
      .insert({ data_key_id: dataKeyId, key_fingerprint: fingerprint, wrapped })
      .onConflict(['data_key_id', 'key_fingerprint'])
      .merge();
  }

  /**
   * Finishes a rotation in one transaction: the pending key becomes active
   * only if it wraps every data key; the old keys and their wraps go.
   */
  async completeRotation(pendingFingerprint: string): Promise<void> {
    await this.db.transaction(async tx => {
      const [{ count: dataKeyCount }] = await tx(DATA_KEYS).count({
        count: '*',
      });
      const [{ count: wrapCount }] = await tx(WRAPS)
        .where({ key_fingerprint: pendingFingerprint })
        .count({ count: '*' });
      if (Number(wrapCount) !== Number(dataKeyCount)) {
        throw new ConflictError(
          `Rotation incomplete: ${wrapCount} of ${dataKeyCount} data keys are wrapped to the new key`,
        );
      }
      await tx(WRAPS)
        .whereNot({ key_fingerprint: pendingFingerprint })
        .delete();
      await tx(KEYS).whereNot({ fingerprint: pendingFingerprint }).delete();
      await tx(KEYS)
        .where({ fingerprint: pendingFingerprint })
        .update({ state: 'active' });
    });
  }

  private keyRow(key: StoredKeyringKey): KeyRow {
    return {
      fingerprint: key.fingerprint,
      state: key.state,
      armored_public_key: key.armoredPublicKey,
      armored_private_key: key.armoredPrivateKey,
      created_at: key.createdAt,
      created_by: key.createdBy,
    };
  }
}
