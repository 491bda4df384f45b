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

/** The keyring's state as every replica sees it. */
export interface KeyringGeneration {
  /** Moves on bootstrap, rotation, restore and seal. */
  generation: number;
  /** An administrator sealed the keyring; only an unlock with the passphrase opens it. */
  sealed: boolean;
}

/** A rotation's new private key, encrypted to and signed by the key it replaced. */
export interface StoredHandover {
  /** The generation the rotation led to. */
  generation: number;
  fromFingerprint: string;
  toFingerprint: string;
  sealedKey: string;
}

/** The outcome of asking to try a passphrase. */
export type UnlockAttempt =
  | { attemptId: string; retryInSeconds?: undefined }
  | { attemptId?: undefined; retryInSeconds: number };

const KEYS = 'deployments_keyring_keys';
const DATA_KEYS = 'deployments_data_keys';
const WRAPS = 'deployments_data_key_wraps';
const STATE = 'deployments_keyring_state';
const ATTEMPTS = 'deployments_keyring_unlock_attempts';
const HANDOVERS = 'deployments_keyring_handovers';
/** How long a rotation's handover stays for replicas that have not followed yet. */
const HANDOVER_TTL_SECONDS = 15 * 60;

/** Moves the generation in a transaction; returns the new one. */
async function bumpGeneration(
  tx: Knex.Transaction,
  sealed?: boolean,
): Promise<number> {
  const updated = await tx(STATE)
    .where({ id: 1 })
    .update({
      generation: tx.raw('generation + 1'),
      ...(sealed === undefined ? {} : { sealed }),
      updated_at: tx.fn.now(),
    });
  if (Number(updated) === 0) {
    // The migration inserts the row; this only repairs a deleted one.
    await tx(STATE).insert({ id: 1, generation: 1, sealed: sealed ?? false });
    return 1;
  }
  const row = await tx(STATE).where({ id: 1 }).first('generation');
  return Number(row.generation);
}

function isSqlite(db: Knex): boolean {
  return String(db.client.config.client).includes('sqlite');
}

/** `column` is younger than `seconds`, on the database's clock. */
function newerThan(db: Knex, column: string, seconds: number): Knex.Raw {
  return isSqlite(db)
    ? db.raw(`?? > datetime('now', ?)`, [column, `-${seconds} seconds`])
    : db.raw(`?? > now() - (? * interval '1 second')`, [column, seconds]);
}

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
    options: { sealed: boolean },
  ): Promise<number> {
    return await this.db.transaction(async tx => {
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
      return bumpGeneration(tx, options.sealed);
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
  async completeRotation(
    pendingFingerprint: string,
    handover: { fromFingerprint: string; sealedKey: string },
  ): Promise<number> {
    return await this.db.transaction(async tx => {
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
      const generation = await bumpGeneration(tx);
      await tx(HANDOVERS)
        .whereNot(newerThan(tx, 'created_at', HANDOVER_TTL_SECONDS))
        .delete();
      await tx(HANDOVERS)
        .insert({
          generation,
          from_fingerprint: handover.fromFingerprint,
          to_fingerprint: pendingFingerprint,
          sealed_key: handover.sealedKey,
        })
        .onConflict('generation')
        .ignore();
      return generation;
    });
  }

  /** One read by primary key: cheap enough to make before using key material. */
  async getGeneration(): Promise<KeyringGeneration> {
    const row = await this.db(STATE).where({ id: 1 }).first();
    return {
      generation: Number(row?.generation ?? 0),
      sealed: Boolean(row?.sealed),
    };
  }

  /** Seals the keyring for every replica; returns the new generation. */
  async seal(): Promise<number> {
    return await this.db.transaction(tx => bumpGeneration(tx, true));
  }

  /**
   * Clears the sealed flag if the generation is still the one the unlock
   * read; false when a seal, rotation or restore came in between.
   */
  async unseal(generation: number): Promise<boolean> {
    const updated = await this.db(STATE)
      .where({ id: 1, generation })
      .update({ sealed: false, updated_at: this.db.fn.now() });
    return Number(updated) === 1;
  }

  /** The handover a rotation to `generation` left, if it has not expired. */
  async getHandover(generation: number): Promise<StoredHandover | undefined> {
    const row = await this.db(HANDOVERS)
      .where({ generation })
      .andWhere(newerThan(this.db, 'created_at', HANDOVER_TTL_SECONDS))
      .first();
    return row
      ? {
          generation: Number(row.generation),
          fromFingerprint: row.from_fingerprint,
          toFingerprint: row.to_fingerprint,
          sealedKey: row.sealed_key,
        }
      : undefined;
  }

  /**
   * Records an unlock attempt before the passphrase is tried, so attempts on
   * every replica (and those still running) count against one limit: at most
   * `maxAttempts` in `windowSeconds`, on the database's clock. Reservations
   * are serialized on the keyring state row, so racing replicas cannot get
   * past the limit together. Refused when the limit is reached, with the
   * seconds until the oldest attempt leaves the window.
   */
  async reserveUnlockAttempt(options: {
    windowSeconds: number;
    maxAttempts: number;
  }): Promise<UnlockAttempt> {
    const { windowSeconds, maxAttempts } = options;
    const sqlite = isSqlite(this.db);
    return await this.db.transaction(async tx => {
      const lock = tx(STATE).where({ id: 1 });
      await (sqlite ? lock : lock.forUpdate()).first('id');
      await tx(ATTEMPTS)
        .whereNot(newerThan(tx, 'attempted_at', windowSeconds))
        .delete();
      const [{ count, seconds }] = await tx(ATTEMPTS).select(
        tx.raw('count(*) as count'),
        tx.raw(
          sqlite
            ? `(julianday(min(attempted_at)) - julianday('now')) * 86400 + ? as seconds`
            : `extract(epoch from (min(attempted_at) - now())) + ? as seconds`,
          [windowSeconds],
        ),
      );
      if (Number(count) >= maxAttempts) {
        return {
          retryInSeconds: Math.min(
            windowSeconds,
            Math.max(1, Math.ceil(Number(seconds ?? windowSeconds))),
          ),
        };
      }
      const [inserted] = await tx(ATTEMPTS)
        .insert({ attempted_at: tx.fn.now() })
        .returning('id');
      return {
        attemptId: String(
          typeof inserted === 'object' ? inserted.id : inserted,
        ),
      };
    });
  }

  /** Forgets an attempt that tested no passphrase (refused, or failed otherwise). */
  async releaseUnlockAttempt(attemptId: string): Promise<void> {
    await this.db(ATTEMPTS).where({ id: attemptId }).delete();
  }

  /** A right passphrase: the count starts again. */
  async clearUnlockAttempts(): Promise<void> {
    await this.db(ATTEMPTS).delete();
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
