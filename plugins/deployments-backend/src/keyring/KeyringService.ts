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

/**
 * How unlock attempts are limited, across every replica and on the
 * database's clock: at most this many wrong (or running) ones per window.
 */
const UNLOCK_WINDOW_SECONDS = 60;
const UNLOCK_MAX_ATTEMPTS = 5;
/** Key material is used only after the database's generation was read this recently. */
const DEFAULT_CHECK_INTERVAL_MS = 1000;
/** How often a started service reads the generation even when idle. */
const DEFAULT_POLL_INTERVAL_MS = 2000;

interface UnlockedState {
  active: UnlockedKeyringKey;
  /** The new key of a rotation that has not finished. */
  pending?: UnlockedKeyringKey;
  by: 'passphrase' | 'configuration';
  /** The keyring generation (in the database) this key material belongs to. */
  generation: number;
}

/** Test seam: lets a test stop a rotation halfway, as a crash would. */
export interface RotationHooks {
  afterRewrap?(dataKeyId: string, index: number): Promise<void> | void;
}

/**
 * The keyring's rules: bootstrap, sealed/unlocked, self-test, backup,
 * restore and crash-safe rotation. Unwrapped data keys live only in memory,
 * only while unlocked.
 *
 * Several replicas share one database, and the keyring's state is a fact
 * there: a generation that moves on bootstrap, rotation, restore and seal,
 * and a sealed flag. Each replica reads it (one primary-key read, at most
 * once a second, and every two seconds when started) before it uses key
 * material, and follows:
 * - sealed elsewhere, or the generation moved in a way it cannot follow: it
 *   forgets its keys and answers "sealed", saying why;
 * - rotated elsewhere: it takes the new key over from the handover the
 *   rotation left, sealed to and signed by the old key it holds;
 * - unlocked elsewhere while it holds no keys: it unlocks itself only with a
 *   configured passphrase (`deployments.keyring.passphrase`). Nothing in the
 *   database alone can unlock a replica, or a database reader could too.
 * Wrong passphrases are counted in the database, for all replicas at once.
 */
export class KeyringService {
  private unlocked: UnlockedState | undefined;
  private readonly dataKeys = new DataKeyCache();
  /** Why this replica holds no keys, when it is not simply sealed. */
  private sealedReason: string | undefined;
  private checkedAt = 0;
  private checking: Promise<void> | undefined;
  private following: Promise<void> | undefined;
  /** The generation the configured passphrase last failed (or was tried) for. */
  private followTriedFor: number | undefined;
  private poller: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly store: DatabaseKeyringStore,
    private readonly engine: OpenPgpKeyEngine,
    private readonly logger: LoggerService,
    private readonly configuredPassphrase: string | undefined,
    private readonly checkIntervalMs: number,
    private readonly pollIntervalMs: number,
  ) {}

  static create(options: {
    store: DatabaseKeyringStore;
    engine?: OpenPgpKeyEngine;
    logger: LoggerService;
    /**
     * `deployments.keyring.passphrase`: lets this replica follow an unlock
     * made on another one (and a rotation it missed the handover of).
     */
    passphrase?: string;
    /** How stale the database's generation may be when keys are used. Default 1000. */
    checkIntervalMs?: number;
    /** How often `start()` reads the generation in the background. Default 2000. */
    pollIntervalMs?: number;
  }): KeyringService {
    return new KeyringService(
      options.store,
      options.engine ?? OpenPgpKeyEngine.create(),
      options.logger,
      options.passphrase || undefined,
      options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
      options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    );
  }

  /**
   * Follows the database in the background too, so a seal elsewhere drops
   * this replica's keys within seconds even when it is idle.
   */
  start(): void {
    if (this.poller) return;
    this.poller = setInterval(() => {
      this.sync(true).catch(error =>
        this.logger.warn('Reading the keyring generation failed', {
          error: String(error),
        }),
      );
    }, this.pollIntervalMs);
    this.poller.unref?.();
  }

  /** Stops following in the background and waits for a follow under way. */
  async stop(): Promise<void> {
    if (this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
    await this.checking?.catch(() => undefined);
    await this.following;
  }

  async status(): Promise<KeyringStatus> {
    await this.sync();
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

  /** Whether this replica holds key material (as of its last look at the database). */
  isUnlocked(): boolean {
    return this.unlocked !== undefined;
  }

  /**
   * Reads the database's keyring generation (at most once per check
   * interval unless forced; concurrent callers share one read) and follows
   * it. Never derives a key itself: following with the configured
   * passphrase runs in the background.
   */
  async sync(force = false): Promise<void> {
    if (!force && Date.now() - this.checkedAt < this.checkIntervalMs) {
      return;
    }
    if (!this.checking) {
      this.checking = this.follow().finally(() => {
        this.checking = undefined;
      });
    }
    await this.checking;
  }

  private async follow(): Promise<void> {
    const current = await this.store.getGeneration();
    this.checkedAt = Date.now();
    const held = this.unlocked;
    if (held && current.sealed) {
      this.forget(
        'The keyring was sealed (on this or another replica); an administrator must unlock it before credentials can be used',
      );
    } else if (held && held.generation !== current.generation) {
      await this.takeOver(held, current.generation);
    }
    if (
      !this.unlocked &&
      !current.sealed &&
      !this.configuredPassphrase &&
      current.generation > 0 &&
      this.sealedReason === undefined
    ) {
      this.sealedReason =
        'The keyring is not sealed, but this replica holds no key material: it was not unlocked here, and it has no deployments.keyring.passphrase to follow an unlock made on another replica; an administrator must unlock it again';
    } else if (!this.unlocked && current.sealed) {
      this.sealedReason = undefined;
    }
    if (
      !this.unlocked &&
      !current.sealed &&
      this.configuredPassphrase &&
      this.followTriedFor !== current.generation &&
      !this.following
    ) {
      this.followTriedFor = current.generation;
      const passphrase = this.configuredPassphrase;
      this.following = (async () => {
        if ((await this.store.listKeys()).length === 0) {
          return;
        }
        await this.unlock(passphrase, 'configuration');
        this.logger.info(
          'Keyring unlocked from configuration, following the database',
          { generation: current.generation },
        );
      })()
        .catch(error => {
          // A wrong configured passphrase is not tried again for this
          // generation; anything else (the rate limit, the database) is.
          if ((error as Error).name !== 'NotAllowedError') {
            this.followTriedFor = undefined;
          }
          this.logger.warn(
            'This replica could not follow the keyring with its configured passphrase; it stays sealed',
            { errorName: (error as Error).name },
          );
        })
        .finally(() => {
          this.following = undefined;
        });
    }
  }

  /**
   * The generation moved while this replica held keys. Only rotations can be
   * followed without a passphrase: each leaves a handover sealed to, and
   * signed by, the key it replaced. Anything else (a seal and unlock in
   * between, a restore) means this replica forgets its keys.
   */
  private async takeOver(held: UnlockedState, generation: number) {
    let active = held.active;
    let reached = held.generation;
    const taken: UnlockedKeyringKey[] = [];
    while (reached < generation) {
      const handover = await this.store.getHandover(reached + 1);
      if (!handover || handover.fromFingerprint !== active.fingerprint) {
        break;
      }
      try {
        active = await active.openHandover(
          handover.sealedKey,
          handover.toFingerprint,
        );
      } catch (error) {
        this.logger.warn('A keyring handover could not be opened', {
          toFingerprint: handover.toFingerprint,
          errorName: (error as Error).name,
        });
        break;
      }
      taken.push(active);
      reached += 1;
    }
    const stored = (await this.store.listKeys()).find(
      k => k.state === 'active',
    );
    if (
      reached === generation &&
      stored?.fingerprint === active.fingerprint &&
      this.unlocked === held
    ) {
      for (const key of [held.active, held.pending, ...taken.slice(0, -1)]) {
        key?.lock();
      }
      // Data keys are the same across a rotation; the cache stays valid.
      this.unlocked = { active, by: held.by, generation };
      this.logger.info('Keyring followed a rotation on another replica', {
        fingerprint: active.fingerprint,
        generation,
      });
      return;
    }
    for (const key of taken) {
      key.lock();
    }
    if (this.unlocked === held) {
      this.forget(
        'The keyring changed on another replica (sealed, restored or rotated) in a way this replica cannot follow without the passphrase; an administrator must unlock it again',
      );
    }
  }

  /** Forgets every unwrapped key on this replica. */
  private forget(reason: string | undefined) {
    const held = this.unlocked;
    this.unlocked = undefined;
    this.dataKeys.clear();
    held?.active.lock();
    held?.pending?.lock();
    this.sealedReason = reason;
    if (held && reason) {
      this.logger.info('Keyring sealed on this replica', { reason });
    }
  }

  /** requireUnlocked, after making sure the key material is still current. */
  private async requireCurrent(): Promise<UnlockedState> {
    await this.sync();
    return this.requireUnlocked();
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
    const generation = await this.store.createKeyring(
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
      { sealed: false },
    );
    this.forget(undefined);
    this.dataKeys.set(dataKeyId, dataKey);
    this.unlocked = { active: unlocked, by: 'passphrase', generation };
    this.checkedAt = Date.now();
    this.logger.info('Keyring bootstrapped', { fingerprint: pair.fingerprint });
    return this.status();
  }

  /**
   * Opens the keyring with its passphrase (held in memory only for the call).
   * Wrong passphrases are rate-limited across replicas. An unlock by a person
   * clears a seal for every replica; the configured passphrase never does.
   * Resumes an interrupted rotation.
   */
  async unlock(
    passphrase: string,
    by: 'passphrase' | 'configuration' = 'passphrase',
  ): Promise<KeyringStatus> {
    const current = await this.store.getGeneration();
    if (by === 'configuration' && current.sealed) {
      throw new KeyringSealedError(
        'The keyring was sealed by an administrator; the configured passphrase does not unseal it, an unlock with the passphrase does',
      );
    }
    const keys = await this.store.listKeys();
    const active = keys.find(k => k.state === 'active');
    if (!active) {
      throw new KeyringUninitializedError();
    }
    let activeKey: UnlockedKeyringKey;
    try {
      activeKey = await this.tryPassphrase(() =>
        this.engine.unlock(
          active.armoredPrivateKey,
          passphrase,
          active.fingerprint,
        ),
      );
    } catch (error) {
      if (
        by === 'configuration' &&
        (error as Error).name === 'NotAllowedError'
      ) {
        // Following in the background would only try it again.
        this.followTriedFor = current.generation;
      }
      throw error;
    }

    const pendingRow = keys.find(k => k.state === 'pending');
    const pending = pendingRow
      ? await this.engine.unlock(
          pendingRow.armoredPrivateKey,
          passphrase,
          pendingRow.fingerprint,
        )
      : undefined;
    if (by === 'passphrase' && !(await this.store.unseal(current.generation))) {
      activeKey.lock();
      pending?.lock();
      throw new ConflictError(
        'The keyring changed (sealed, rotated or restored) while it was being unlocked; unlock it again',
      );
    }
    // Keys held until now are left to requests still using them, as before.
    this.sealedReason = undefined;
    this.unlocked = {
      active: activeKey,
      pending,
      by,
      generation: current.generation,
    };
    this.checkedAt = Date.now();
    if (pending) {
      this.logger.info('Resuming a keyring rotation', {
        toFingerprint: pending.fingerprint,
      });
      await this.finishRotation({});
    }
    return this.status();
  }

  /**
   * Runs a passphrase check under the shared rate limit: the attempt is
   * recorded before the (slow) derivation, kept if the passphrase is wrong,
   * and all of them are cleared by a right one.
   */
  private async tryPassphrase<T>(check: () => Promise<T>): Promise<T> {
    const attempt = await this.store.reserveUnlockAttempt({
      windowSeconds: UNLOCK_WINDOW_SECONDS,
      maxAttempts: UNLOCK_MAX_ATTEMPTS,
    });
    if (attempt.attemptId === undefined) {
      throw new TooManyUnlockAttemptsError(
        `Too many wrong passphrases; try again in ${attempt.retryInSeconds} s`,
      );
    }
    let result: T;
    try {
      result = await check();
    } catch (error) {
      if ((error as Error).name === 'WrongPassphraseError') {
        throw new NotAllowedError('Wrong keyring passphrase');
      }
      await this.store.releaseUnlockAttempt(attempt.attemptId);
      throw error;
    }
    await this.store.clearUnlockAttempts();
    return result;
  }

  /**
   * Forgets every unwrapped key, on every replica: this one at once, the
   * others within seconds. Operations answer 503 until an administrator
   * unlocks the keyring again.
   */
  async seal(): Promise<void> {
    this.forget(undefined);
    await this.store.seal();
    this.forget(undefined);
    this.checkedAt = Date.now();
  }

  /** A full round trip: new data key, wrap, unwrap, AES-GCM seal and open, compare. */
  async selfTest(): Promise<KeyringSelfTestResult> {
    const { active } = await this.requireCurrent();
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
    await this.sync();
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
    let { active } = await this.requireCurrent();
    const cached = this.dataKeys.get(dataKeyId);
    if (cached) {
      return cached;
    }
    let wrapped = await this.store.getWrap(dataKeyId, active.fingerprint);
    if (!wrapped) {
      // Another replica may have rotated the keyring since this one last
      // looked (up to a check interval ago): look now, follow, try again.
      await this.sync(true);
      ({ active } = this.requireUnlocked());
      wrapped = await this.store.getWrap(dataKeyId, active.fingerprint);
    }
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

  /**
   * Throws KeyringSealedError unless this replica holds key material, as of
   * its last look at the database (resolveDataKey looks again before any key
   * is used).
   */
  requireUnlocked(): UnlockedState {
    if (!this.unlocked) {
      throw new KeyringSealedError(this.sealedReason);
    }
    return this.unlocked;
  }

  async exportBackup(
    backupPassphrase: string,
  ): Promise<{ file: Buffer; fingerprint: string; capturedAt: string }> {
    const { active } = await this.requireCurrent();
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
    // A backup that restore would refuse (keys of another size, Argon2
    // costs out of range) is reported now, not on the day it is needed.
    for (const key of contents.keys) {
      await this.engine.checkPrivateKey(key.armoredPrivateKey, key.fingerprint);
    }
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
      // Its Argon2 costs are checked now, not at the first unlock.
      await this.engine.checkPrivateKey(key.armoredPrivateKey, key.fingerprint);
    }
    const keys: StoredKeyringKey[] = contents.keys.map(k => ({
      ...k,
      createdBy: 'restore',
    }));
    await this.store.createKeyring(keys, contents.dataKeys, { sealed: true });
    this.forget(undefined);
    this.checkedAt = 0;
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
    const state = await this.requireCurrent();
    if (state.pending) {
      await this.finishRotation(hooks);
      return this.status();
    }
    const keys = await this.store.listKeys();
    const active = keys.find(k => k.state === 'active')!;
    // The new key gets the same passphrase, so check it opens the current
    // one, under the same limit as unlocking: else this would be a way to
    // guess passphrases without one.
    const check = await this.tryPassphrase(() =>
      this.engine.unlock(
        active.armoredPrivateKey,
        passphrase,
        active.fingerprint,
      ),
    );
    check.lock();
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
    this.logger.info('Keyring rotation started', {
      toFingerprint: pair.fingerprint,
    });
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
    const generation = await this.store.completeRotation(pending.fingerprint, {
      fromFingerprint: state.active.fingerprint,
      sealedKey: await state.active.sealHandover(pending),
    });
    if (this.unlocked === state) {
      state.active.lock();
      this.unlocked = { active: pending, by: state.by, generation };
      this.checkedAt = Date.now();
    }
    this.logger.info('Keyring rotated', { fingerprint: pending.fingerprint });
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
