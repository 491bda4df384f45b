import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import {
  KeyringBackupVerification,
  KeyringSelfTestResult,
  KeyringStatus,
} from '@kubedeploy/plugin-deployments-common';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  DataKeyCache,
  EnvelopeCipher,
  generateDataKey,
} from '../secrets/EnvelopeCipher';
import { DatabaseKeyringStore, StoredKeyringKey } from './DatabaseKeyringStore';
import {
  KeyringSealedError,
  KeyringUninitializedError,
  TooManyUnlockAttemptsError,
} from './KeyringSealedError';
import { OpenPgpKeyEngine, UnlockedKeyringKey } from './OpenPgpKeyEngine';
import {
  decodeKeyringBackup,
  describeKeyringBackup,
  encodeKeyringBackup,
} from './keyringBackup';
import { describeWeakPassphrase } from './passphrasePolicy';

/** How unlock attempts are limited: at most `maxFailures` wrong ones per window. */
const UNLOCK_WINDOW_MS = 60_000;
const UNLOCK_MAX_FAILURES = 5;

interface UnlockedState {
  active: UnlockedKeyringKey;
  /** The new key of a rotation that has not finished. */
  pending?: UnlockedKeyringKey;
  by: 'passphrase' | 'configuration';
}

/** Test seam: lets a test stop a rotation halfway, as a crash would. */
export interface RotationHooks {
  afterRewrap?(dataKeyId: string, index: number): Promise<void> | void;
}

/**
 * The keyring's rules: bootstrap, sealed/unlocked, self-test, backup,
 * restore and crash-safe rotation. Unwrapped data keys live only in memory,
 * only while unlocked.
 */
export class KeyringService {
  private unlocked: UnlockedState | undefined;
  private readonly dataKeys = new DataKeyCache();
  private unlockFailures: number[] = [];

  private constructor(
    private readonly store: DatabaseKeyringStore,
    private readonly engine: OpenPgpKeyEngine,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    store: DatabaseKeyringStore;
    engine?: OpenPgpKeyEngine;
    logger: LoggerService;
  }): KeyringService {
    return new KeyringService(
      options.store,
      options.engine ?? OpenPgpKeyEngine.create(),
      options.logger,
    );
  }

  async status(): Promise<KeyringStatus> {
    const keys = await this.store.listKeys();
    const active = keys.find(k => k.state === 'active');
    const pending = keys.find(k => k.state === 'pending');
    if (!active) {
      return { state: 'uninitialized', dataKeyCount: 0 };
    }
    return {
      state: this.unlocked ? 'unlocked' : 'sealed',
      fingerprint: active.fingerprint,
      createdAt: active.createdAt,
      rotation: pending
        ? {
            pendingFingerprint: pending.fingerprint,
            startedAt: pending.createdAt,
          }
        : undefined,
      dataKeyCount: await this.store.countDataKeys(),
      unlockedBy: this.unlocked?.by,
    };
  }

  isUnlocked(): boolean {
    return this.unlocked !== undefined;
  }

  /** Creates the keyring and its first data key; leaves it unlocked. */
  async bootstrap(passphrase: string, actor: string): Promise<KeyringStatus> {
    requireStrongPassphrase(passphrase, 'unlock passphrase');
    if ((await this.store.listKeys()).length > 0) {
      throw new ConflictError('A keyring already exists; bootstrap is refused');
    }
    const pair = await this.engine.generate(passphrase);
    const unlocked = await this.engine.unlock(
      pair.armoredPrivateKey,
      passphrase,
      pair.fingerprint,
    );
    const now = new Date().toISOString();
    const dataKey = generateDataKey();
    const dataKeyId = randomUUID();
    await this.store.createKeyring(
      [
        {
          fingerprint: pair.fingerprint,
          state: 'active',
          armoredPublicKey: pair.armoredPublicKey,
          armoredPrivateKey: pair.armoredPrivateKey,
          createdAt: now,
          createdBy: actor,
        },
      ],
      [
        {
          id: dataKeyId,
          createdAt: now,
          wraps: [
            {
              fingerprint: pair.fingerprint,
              wrapped: await unlocked.wrapDataKey(dataKey),
            },
          ],
        },
      ],
    );
    this.dataKeys.clear();
    this.dataKeys.set(dataKeyId, dataKey);
    this.unlocked = { active: unlocked, by: 'passphrase' };
    this.logger.info(`Keyring ${pair.fingerprint} bootstrapped`);
    return this.status();
  }

  /**
   * Opens the keyring with its passphrase (held in memory only for the call).
   * Wrong passphrases are rate-limited. Resumes an interrupted rotation.
   */
  async unlock(
    passphrase: string,
    by: 'passphrase' | 'configuration' = 'passphrase',
  ): Promise<KeyringStatus> {
    const now = Date.now();
    this.unlockFailures = this.unlockFailures.filter(
      t => now - t < UNLOCK_WINDOW_MS,
    );
    if (this.unlockFailures.length >= UNLOCK_MAX_FAILURES) {
      const retryInSeconds = Math.ceil(
        (UNLOCK_WINDOW_MS - (now - this.unlockFailures[0])) / 1000,
      );
      throw new TooManyUnlockAttemptsError(
        `Too many wrong passphrases; try again in ${retryInSeconds} s`,
      );
    }

    const keys = await this.store.listKeys();
    const active = keys.find(k => k.state === 'active');
    if (!active) {
      throw new KeyringUninitializedError();
    }
    let activeKey: UnlockedKeyringKey;
    try {
      activeKey = await this.engine.unlock(
        active.armoredPrivateKey,
        passphrase,
        active.fingerprint,
      );
    } catch (error) {
      if ((error as Error).name === 'WrongPassphraseError') {
        this.unlockFailures.push(now);
        throw new NotAllowedError('Wrong keyring passphrase');
      }
      throw error;
    }
    this.unlockFailures = [];

    const pendingRow = keys.find(k => k.state === 'pending');
    const pending = pendingRow
      ? await this.engine.unlock(
          pendingRow.armoredPrivateKey,
          passphrase,
          pendingRow.fingerprint,
        )
      : undefined;
    this.unlocked = { active: activeKey, pending, by };
    if (pending) {
      this.logger.info(`Resuming keyring rotation to ${pending.fingerprint}`);
      await this.finishRotation({});
    }
    return this.status();
  }

  /** Forgets every unwrapped key; operations answer 503 until unlocked. */
  seal(): void {
    this.unlocked = undefined;
    this.dataKeys.clear();
  }

  /** A full round trip: new data key, wrap, unwrap, AES-GCM seal and open, compare. */
  async selfTest(): Promise<KeyringSelfTestResult> {
    const { active } = this.requireUnlocked();
    const steps: Array<{ step: string; ms: number }> = [];
    const time = async <T>(step: string, fn: () => Promise<T>) => {
      const start = performance.now();
      const value = await fn();
      steps.push({ step, ms: round(performance.now() - start) });
      return value;
    };

    const dataKey = generateDataKey();
    const wrapped = await time('wrap data key (OpenPGP RSA)', () =>
      active.wrapDataKey(dataKey),
    );
    const unwrapped = await time('unwrap data key (OpenPGP RSA)', () =>
      active.unwrapDataKey(wrapped),
    );
    const cipher = EnvelopeCipher.create({
      resolver: { resolve: async () => unwrapped },
    });
    const probe = Buffer.from(`self-test ${randomUUID()}`);
    const identity = { type: 'self-test', id: randomUUID(), version: 1 };
    const sealed = await time('encrypt (AES-256-GCM)', () =>
      cipher.seal('self-test', identity, probe),
    );
    const opened = await time('decrypt (AES-256-GCM)', () =>
      cipher.open(identity, sealed),
    );
    const ok =
      unwrapped.length === dataKey.length &&
      timingSafeEqual(unwrapped, dataKey) &&
      opened.equals(probe);
    dataKey.fill(0);
    unwrapped.fill(0);
    return {
      ok,
      fingerprint: active.fingerprint,
      steps,
      totalMs: round(steps.reduce((sum, s) => sum + s.ms, 0)),
    };
  }

  /** The data key new secrets are sealed under. */
  async currentDataKeyId(): Promise<string> {
    if (!this.unlocked && (await this.store.listKeys()).length === 0) {
      throw new KeyringUninitializedError();
    }
    this.requireUnlocked();
    const dataKeys = await this.store.listDataKeys();
    const newest = dataKeys[dataKeys.length - 1];
    if (!newest) {
      throw new KeyringUninitializedError('The keyring has no data key');
    }
    return newest.id;
  }

  /** An unwrapped data key, from memory or unwrapped once with the active key. */
  async resolveDataKey(dataKeyId: string): Promise<Buffer> {
    const { active } = this.requireUnlocked();
    const cached = this.dataKeys.get(dataKeyId);
    if (cached) {
      return cached;
    }
    const wrapped = await this.store.getWrap(dataKeyId, active.fingerprint);
    if (!wrapped) {
      throw new ConflictError(
        `Data key ${dataKeyId} is not wrapped to the active keyring key`,
      );
    }
    const dataKey = await active.unwrapDataKey(wrapped);
    this.dataKeys.set(dataKeyId, dataKey);
    return dataKey;
  }

  /** A stable, non-reversible fingerprint of a secret under its data key. */
  async fingerprintSecret(
    dataKeyId: string,
    value: Buffer | string,
  ): Promise<string> {
    const key = await this.resolveDataKey(dataKeyId);
    const digest = createHmac('sha256', key)
      .update('kubedeploy/credential-fingerprint\0')
      .update(value)
      .digest('hex');
    return `hmac-sha256:${digest.slice(0, 16)}`;
  }

  requireUnlocked(): UnlockedState {
    if (!this.unlocked) {
      throw new KeyringSealedError();
    }
    return this.unlocked;
  }

  async exportBackup(
    backupPassphrase: string,
  ): Promise<{ file: Buffer; fingerprint: string; capturedAt: string }> {
    const { active } = this.requireUnlocked();
    const capturedAt = new Date().toISOString();
    const keys = await this.store.listKeys();
    const file = await encodeKeyringBackup(
      {
        formatVersion: 1,
        fingerprint: active.fingerprint,
        capturedAt,
        keys: keys.map(k => ({
          fingerprint: k.fingerprint,
          armoredPublicKey: k.armoredPublicKey,
          armoredPrivateKey: k.armoredPrivateKey,
          state: k.state,
          createdAt: k.createdAt,
        })),
        dataKeys: await this.store.listDataKeys(),
      },
      backupPassphrase,
    );
    return { file, fingerprint: active.fingerprint, capturedAt };
  }

  /** Metadata of a backup, never its key material. */
  async verifyBackup(
    file: Buffer,
    backupPassphrase: string,
  ): Promise<KeyringBackupVerification> {
    const contents = await decodeKeyringBackup(file, backupPassphrase);
    const metadata = describeKeyringBackup(contents);
    const current = (await this.store.listKeys()).find(
      k => k.state === 'active',
    );
    return {
      ...metadata,
      matchesCurrent: current?.fingerprint === metadata.fingerprint,
    };
  }

  /**
   * Restores a backup into an install without a keyring, all or nothing. The
   * restored keyring is sealed: it opens with its original unlock passphrase.
   */
  async restoreBackup(
    file: Buffer,
    backupPassphrase: string,
  ): Promise<KeyringStatus> {
    const contents = await decodeKeyringBackup(file, backupPassphrase);
    const activeKeys = contents.keys.filter(k => k.state === 'active');
    if (
      activeKeys.length !== 1 ||
      activeKeys[0].fingerprint !== contents.fingerprint
    ) {
      throw new InputError(
        'The backup does not name exactly one active keyring key',
      );
    }
    for (const key of contents.keys) {
      const fingerprint = await this.engine.fingerprintOf(key.armoredPublicKey);
      if (fingerprint !== key.fingerprint) {
        throw new InputError(
          `The backup's key ${key.fingerprint} does not match its fingerprint`,
        );
      }
    }
    const keys: StoredKeyringKey[] = contents.keys.map(k => ({
      ...k,
      createdBy: 'restore',
    }));
    await this.store.createKeyring(keys, contents.dataKeys);
    this.seal();
    return this.status();
  }

  /**
   * Rotates to a new keypair protected by the same passphrase. Crash-safe:
   * the new key is stored as pending first, every data key gets a second wrap,
   * and only a single transaction at the end makes the new key active. At
   * every moment the active key opens every data key; unlocking resumes.
   */
  async rotate(
    passphrase: string,
    actor: string,
    hooks: RotationHooks = {},
  ): Promise<KeyringStatus> {
    const state = this.requireUnlocked();
    if (state.pending) {
      await this.finishRotation(hooks);
      return this.status();
    }
    const keys = await this.store.listKeys();
    const active = keys.find(k => k.state === 'active')!;
    // The new key gets the same passphrase, so check it opens the current one.
    try {
      await this.engine.unlock(
        active.armoredPrivateKey,
        passphrase,
        active.fingerprint,
      );
    } catch (error) {
      if ((error as Error).name === 'WrongPassphraseError') {
        throw new NotAllowedError('Wrong keyring passphrase');
      }
      throw error;
    }
    const pair = await this.engine.generate(passphrase);
    await this.store.addPendingKey({
      fingerprint: pair.fingerprint,
      state: 'pending',
      armoredPublicKey: pair.armoredPublicKey,
      armoredPrivateKey: pair.armoredPrivateKey,
      createdAt: new Date().toISOString(),
      createdBy: actor,
    });
    state.pending = await this.engine.unlock(
      pair.armoredPrivateKey,
      passphrase,
      pair.fingerprint,
    );
    this.logger.info(`Keyring rotation to ${pair.fingerprint} started`);
    await this.finishRotation(hooks);
    return this.status();
  }

  private async finishRotation(hooks: RotationHooks): Promise<void> {
    const state = this.requireUnlocked();
    const pending = state.pending!;
    const dataKeys = await this.store.listDataKeys();
    let index = 0;
    for (const dataKey of dataKeys) {
      if (!dataKey.wraps.some(w => w.fingerprint === pending.fingerprint)) {
        const unwrapped = await this.resolveDataKey(dataKey.id);
        await this.store.putWrap(
          dataKey.id,
          pending.fingerprint,
          await pending.wrapDataKey(unwrapped),
        );
      }
      await hooks.afterRewrap?.(dataKey.id, index++);
    }
    await this.store.completeRotation(pending.fingerprint);
    this.unlocked = { active: pending, by: state.by };
    this.logger.info(`Keyring rotated to ${pending.fingerprint}`);
  }
}

function requireStrongPassphrase(passphrase: string, what: string) {
  const problem = describeWeakPassphrase(passphrase);
  if (problem) {
    throw new InputError(`The ${what} is too weak: ${problem}`);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
